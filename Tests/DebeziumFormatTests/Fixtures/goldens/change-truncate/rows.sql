-- Inserts, a TRUNCATE, inserts; the last transaction truncates and inserts in one (psql runs with PGTZ=UTC).
INSERT INTO public.items VALUES (1, 'apple', 3, 1.25, '2024-05-06 07:08:09.123456+00');
INSERT INTO public.items VALUES (2, 'pear', NULL, NULL, NULL);
TRUNCATE public.items;
BEGIN;
INSERT INTO public.items VALUES (3, 'plum', 1, 0.50, NULL);
TRUNCATE public.items;
INSERT INTO public.items VALUES (4, 'fig', 2, 2.00, NULL);
COMMIT;
