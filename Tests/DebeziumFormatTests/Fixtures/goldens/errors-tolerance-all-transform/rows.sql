-- Each its own transaction (psql runs with PGTZ=UTC).
INSERT INTO public.tags VALUES (1, 'gamma');
INSERT INTO public.items VALUES (2, 7);
INSERT INTO public.tags VALUES (3, 'delta');
INSERT INTO public.items VALUES (4, NULL);
INSERT INTO public.tags VALUES (5, 'gamma');
