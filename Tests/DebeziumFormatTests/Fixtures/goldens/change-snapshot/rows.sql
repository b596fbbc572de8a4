-- After the snapshot, streamed changes (psql runs with PGTZ=UTC).
INSERT INTO public.items VALUES (4, 'fig', 1, 2.00, NULL);
UPDATE public.items SET qty = 1 WHERE id = 1;
INSERT INTO public.tags VALUES (12, 'ripe');
