#ifndef OUTBOX_CDC_CLIBPQ_SHIM_H
#define OUTBOX_CDC_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
