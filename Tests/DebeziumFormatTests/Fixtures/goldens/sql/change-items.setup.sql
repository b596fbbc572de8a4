-- A small table (change-tombstones-off, change-truncate, change-heartbeat, unwrap-* cases). REPLICA IDENTITY DEFAULT.
CREATE TABLE public.items (
  id         integer PRIMARY KEY,
  name       text NOT NULL,
  qty        integer,
  price      numeric(8,2),
  updated_at timestamptz
);
