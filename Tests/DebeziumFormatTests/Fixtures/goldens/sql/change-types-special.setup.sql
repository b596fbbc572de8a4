-- Values that Debezium may not be able to represent (special numerics, infinities, BC dates, 24:00, a huge
-- interval). One row per value, each its own transaction (rows.sql).
CREATE TABLE public.special (
  id             integer PRIMARY KEY,
  label          text NOT NULL,
  c_numeric      numeric,
  c_numeric_10_2 numeric(10,2),
  c_real         real,
  c_double       double precision,
  c_date         date,
  c_time         time,
  c_timestamp    timestamp,
  c_timestamptz  timestamptz,
  c_interval     interval
);
