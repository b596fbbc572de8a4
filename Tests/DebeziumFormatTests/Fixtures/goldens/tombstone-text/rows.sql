-- route.tombstone.on.empty.payload=true with a text payload: which payloads count as empty?
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated', 'x');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderCreated', '');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', 'order-3', 'OrderCreated', '   ');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000004', 'Order', 'order-4', 'OrderCreated', NULL);
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000005', 'Order', 'order-5', 'OrderCreated', E'\n\t');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000006', 'Order', 'order-6', 'OrderCreated', 'last');
