-- A small table whose name column names topics; REPLICA IDENTITY FULL so that a delete's before has the name.
CREATE TABLE public.items (
  id         integer PRIMARY KEY,
  name       text NOT NULL,
  qty        integer
);
ALTER TABLE public.items REPLICA IDENTITY FULL;
