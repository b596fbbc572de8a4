-- Inserts, an update of a non-key column, a primary-key change, a delete; each its own transaction (psql runs
-- with PGTZ=UTC).
INSERT INTO public.items VALUES (1, 'apple', 3, 1.25, '2024-05-06 07:08:09.123456+00');
INSERT INTO public.items VALUES (2, 'pear', NULL, NULL, NULL);
UPDATE public.items SET qty = 4 WHERE id = 1;
UPDATE public.items SET id = 20 WHERE id = 2;
DELETE FROM public.items WHERE id = 20;
