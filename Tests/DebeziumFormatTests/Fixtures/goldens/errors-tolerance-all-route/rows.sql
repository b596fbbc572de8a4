-- The second row names no topic: its record cannot be routed (psql runs with PGTZ=UTC).
INSERT INTO public.items VALUES (1, 'alpha', 1);
INSERT INTO public.items VALUES (2, NULL, 2);
INSERT INTO public.items VALUES (3, 'beta', 3);
