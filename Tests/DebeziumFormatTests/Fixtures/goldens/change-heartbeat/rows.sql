-- Two inserts, 3 s apart; heartbeats (heartbeat.interval.ms=1000) come before, between and after them.
INSERT INTO public.items VALUES (1, 'apple', 3, 1.25, '2024-05-06 07:08:09.123456+00');
SELECT pg_sleep(3);
INSERT INTO public.items VALUES (2, 'pear', NULL, NULL, NULL);
