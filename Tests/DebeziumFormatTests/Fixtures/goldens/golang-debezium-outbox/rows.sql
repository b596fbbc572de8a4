-- Inserts with explicit ids (reproducible keys); one with an explicit created_at, the others take now()
-- (so their created_at differs from run to run). Then an UPDATE and a DELETE, which skipped.operations=u,d
-- drops (psql runs with PGTZ=UTC).
INSERT INTO public.outbox_events (id, aggregate_id, aggregate_type, event_type, payload, created_at)
VALUES ('6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0001', 'order-1', 'Order', 'OrderCreated',
        '{"orderId": "order-1", "customer": {"id": 7, "name": "Zoë Ångström"}, "items": [{"sku": "A-1", "qty": 2, "price": 9.99}], "note": "“quoted” – 日本 😀"}',
        '2024-05-06 07:08:09.123456+00');
INSERT INTO public.outbox_events (id, aggregate_id, aggregate_type, event_type, payload)
VALUES ('6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0002', 'order-1', 'Order', 'OrderPaid',
        '{"orderId": "order-1", "paid": true, "amount": {"value": 19.98, "currency": "EUR"}}');
BEGIN;
INSERT INTO public.outbox_events (id, aggregate_id, aggregate_type, event_type, payload)
VALUES ('6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0003', 'customer-7', 'Customer', 'CustomerRenamed',
        '{"customerId": 7, "old": null, "new": {"name": "Zoë"}, "tags": []}');
COMMIT;
UPDATE public.outbox_events SET event_type = 'OrderPaidUpdated' WHERE id = '6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0002';
DELETE FROM public.outbox_events WHERE id = '6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0003';
