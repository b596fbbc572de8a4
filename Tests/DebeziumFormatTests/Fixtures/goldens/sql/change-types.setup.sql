-- A table with a column of each common PostgreSQL type (change-types-* cases). REPLICA IDENTITY DEFAULT.
-- serial/bigserial columns are NOT NULL by definition; c_text_nn and c_int_nn are NOT NULL with defaults;
-- every other non-key column is nullable.
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE public.change_types (
  id             bigserial PRIMARY KEY,
  c_smallint     smallint,
  c_integer      integer,
  c_bigint       bigint,
  c_serial       serial,
  c_bigserial    bigserial,
  c_numeric_10_2 numeric(10,2),
  c_numeric      numeric,
  c_real         real,
  c_double       double precision,
  c_boolean      boolean,
  c_text         text,
  c_text_nn      text NOT NULL DEFAULT 'default text',
  c_int_nn       integer NOT NULL DEFAULT 42,
  c_varchar      varchar(20),
  c_char         char(5),
  c_uuid         uuid,
  c_json         json,
  c_jsonb        jsonb,
  c_bytea        bytea,
  c_date         date,
  c_time         time,
  c_time_3       time(3),
  c_timetz       timetz,
  c_timestamp    timestamp,
  c_timestamp_3  timestamp(3),
  c_timestamptz  timestamptz,
  c_interval     interval,
  c_mood         public.mood,
  c_text_array   text[],
  c_int_array    integer[]
);
ALTER TABLE public.change_types REPLICA IDENTITY DEFAULT;
