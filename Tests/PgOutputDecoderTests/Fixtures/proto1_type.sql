-- Protocol 1: a table with a user-defined enum and a composite column makes pgoutput send Type messages.
-- Captured by scripts/capture-pgoutput-fixtures into proto1_type.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub'

-- setup (before the slot exists)
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE public.point2 AS (x integer, y integer);
CREATE TABLE public.moods (id integer PRIMARY KEY, current public.mood, position public.point2);

-- captured changes
INSERT INTO moods VALUES (1, 'happy', ROW(3, 4));
