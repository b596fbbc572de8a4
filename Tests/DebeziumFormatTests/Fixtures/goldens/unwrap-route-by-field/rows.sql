-- Each its own transaction (psql runs with PGTZ=UTC).
INSERT INTO public.items VALUES (1, 'apple', 3);
INSERT INTO public.items VALUES (2, 'pear', NULL);
UPDATE public.items SET qty = 4, name = 'fig' WHERE id = 1;
DELETE FROM public.items WHERE id = 2;
