#ifndef OUTBOX_CDC_CLIBRDKAFKA_SHIM_H
#define OUTBOX_CDC_CLIBRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#endif
