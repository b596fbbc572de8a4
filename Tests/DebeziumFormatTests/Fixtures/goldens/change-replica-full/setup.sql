-- The items table of sql/change-items.setup.sql, with REPLICA IDENTITY FULL.
CREATE TABLE public.items (
  id         integer PRIMARY KEY,
  name       text NOT NULL,
  qty        integer,
  price      numeric(8,2),
  updated_at timestamptz
);
ALTER TABLE public.items REPLICA IDENTITY FULL;
