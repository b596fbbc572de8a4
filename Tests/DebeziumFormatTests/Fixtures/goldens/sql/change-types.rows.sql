-- The changes of the change-types-* cases (psql runs with PGTZ=UTC; every statement is its own transaction
-- unless inside BEGIN/COMMIT). ids come from the bigserial: 1 typical, 2 edge, 3 all-NULL, 4-6 the multi-row
-- transaction.

-- 1: a typical row
INSERT INTO public.change_types (c_smallint, c_integer, c_bigint, c_numeric_10_2, c_numeric, c_real, c_double,
  c_boolean, c_text, c_text_nn, c_int_nn, c_varchar, c_char, c_uuid, c_json, c_jsonb, c_bytea, c_date, c_time,
  c_time_3, c_timetz, c_timestamp, c_timestamp_3, c_timestamptz, c_interval, c_mood, c_text_array, c_int_array)
VALUES (7, 1234, 9876543210, 12345.67, 3.14159, 1.5, 2.25,
  true, 'hello', 'not null text', 7, 'varchar', 'abc', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '{"b": [1, 2]}', '\x0102', '2024-05-06', '07:08:09',
  '07:08:09.123', '07:08:09+00', '2024-05-06 07:08:09', '2024-05-06 07:08:09.123', '2024-05-06 07:08:09+00', '1 day', 'ok', '{"x","y"}', '{1,2,3}');

-- 2: an edge row
INSERT INTO public.change_types (c_smallint, c_integer, c_bigint, c_numeric_10_2, c_numeric, c_real, c_double,
  c_boolean, c_text, c_text_nn, c_int_nn, c_varchar, c_char, c_uuid, c_json, c_jsonb, c_bytea, c_date, c_time,
  c_time_3, c_timetz, c_timestamp, c_timestamp_3, c_timestamptz, c_interval, c_mood, c_text_array, c_int_array)
VALUES (-32768, -2147483648, -9223372036854775808, -12345678.90,
  -123456789012345678901234567890.123456789012345678901234567890, -0.1, 3.141592653589793,
  false, '', E'quote " apostrophe '' backslash \\ newline \n tab \t cr \r ctrl \x01 é ü 日本 😀', -1, E'é\\"x\n', 'ab',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', E'{ "a" :  [1, 2 ,3],\n  "b": "x\\u00e9" , "a": 1.5e3 }',
  '{"nested": {"k": [true, null, "ü"]}, "n": 1.50}', '', '1969-07-20', '23:59:59.999999',
  '23:59:59.999', '10:11:12.123456+05:30', '1969-12-31 23:59:59.999999', '1900-01-01 00:00:00.001',
  '2024-02-29 12:34:56.123456-08', '1 year 2 months 3 days 04:05:06.789', 'sad',
  ARRAY['a', NULL, 'with "quote"', '', 'comma,here', 'back\slash'], '{}');

-- 3: every nullable column NULL (the NOT NULL ones take their defaults)
INSERT INTO public.change_types DEFAULT VALUES;

-- 4-6: one multi-row transaction, with more edge values
BEGIN;
INSERT INTO public.change_types (c_smallint, c_integer, c_bigint, c_numeric_10_2, c_numeric, c_real, c_double,
  c_boolean, c_text, c_varchar, c_char, c_bytea, c_date, c_time, c_time_3, c_timetz, c_timestamp, c_timestamp_3,
  c_timestamptz, c_interval, c_mood, c_int_array)
VALUES (32767, 2147483647, 9223372036854775807, 0.00, 0, 3.4028235e38, 1.7976931348623157e308,
  true, 'max', '12345678901234567890', 'abcde', '\x00ff', '9999-12-31', '00:00:00', '00:00:00.000', '00:00:00-11:30',
  '9999-12-31 23:59:59.999999', '2024-01-01 00:00:00', '1970-01-01 00:00:00+00', '-1 months +2 days -03:00:00', 'happy',
  '{1,NULL,3}');
INSERT INTO public.change_types (c_numeric_10_2, c_numeric, c_real, c_double, c_bytea, c_date, c_timestamp,
  c_timestamptz, c_interval, c_text_array, c_int_array)
VALUES (-0.01, 0.000000000000000000000000000001, 1.17549435e-38, -2.2250738585072014e-308, '\x00', '1900-01-01',
  '1900-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '-1 years -2 mons +3 days -04:05:06.000007', '{}', '{NULL}');
INSERT INTO public.change_types (c_numeric_10_2, c_numeric, c_real, c_double, c_interval, c_text, c_time, c_time_3,
  c_timetz, c_timestamp, c_timestamp_3, c_timestamptz)
VALUES (99999999.99, 100, 123456.7, 0.1, '00:00:00.000001', repeat('long ', 20), '12:00:00.5', '12:00:00.5',
  '12:00:00.5+01', '2024-01-01 00:00:00.5', '2024-01-01 00:00:00.12', '2024-01-01 00:00:00.12+00');
COMMIT;

-- an UPDATE of a non-key column
UPDATE public.change_types SET c_text = 'updated', c_integer = c_integer + 1 WHERE id = 1;
-- an UPDATE that changes the primary key
UPDATE public.change_types SET id = 100 WHERE id = 2;
-- a DELETE
DELETE FROM public.change_types WHERE id = 3;
