-- One special value per row and transaction (psql runs with PGTZ=UTC).
INSERT INTO public.special (id, label, c_numeric) VALUES (1, 'numeric NaN', 'NaN');
INSERT INTO public.special (id, label, c_numeric) VALUES (2, 'numeric Infinity', 'Infinity');
INSERT INTO public.special (id, label, c_numeric) VALUES (3, 'numeric -Infinity', '-Infinity');
INSERT INTO public.special (id, label, c_numeric_10_2) VALUES (4, 'numeric(10,2) NaN', 'NaN');
INSERT INTO public.special (id, label, c_real, c_double) VALUES (5, 'real/double NaN', 'NaN', 'NaN');
INSERT INTO public.special (id, label, c_real, c_double) VALUES (6, 'real/double Infinity', 'Infinity', 'Infinity');
INSERT INTO public.special (id, label, c_real, c_double) VALUES (7, 'real/double -Infinity', '-Infinity', '-Infinity');
INSERT INTO public.special (id, label, c_date, c_timestamp, c_timestamptz) VALUES (8, 'infinity', 'infinity', 'infinity', 'infinity');
INSERT INTO public.special (id, label, c_date, c_timestamp, c_timestamptz) VALUES (9, '-infinity', '-infinity', '-infinity', '-infinity');
INSERT INTO public.special (id, label, c_date, c_timestamp, c_timestamptz) VALUES (10, 'BC', '0044-03-15 BC', '0044-03-15 12:00:00 BC', '0044-03-15 12:00:00+00 BC');
INSERT INTO public.special (id, label, c_date, c_timestamp, c_timestamptz) VALUES (11, 'year 1', '0001-01-01', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00');
INSERT INTO public.special (id, label, c_time) VALUES (12, 'time 24:00', '24:00:00');
INSERT INTO public.special (id, label, c_interval) VALUES (13, 'huge interval', '178000000 years');
INSERT INTO public.special (id, label, c_date, c_timestamp, c_timestamptz) VALUES (14, 'far future', '5874897-12-31', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00');
INSERT INTO public.special (id, label, c_real, c_double) VALUES (15, 'negative zero', '-0', '-0');
