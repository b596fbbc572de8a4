-- Toastable columns stored out of line (STORAGE EXTERNAL: no compression, moved to the TOAST table once the
-- row passes ~2 kB). REPLICA IDENTITY DEFAULT.
CREATE TABLE public.docs (
  id        integer PRIMARY KEY,
  title     text NOT NULL,
  body      text,
  blob      bytea,
  doc       jsonb,
  numbers   integer[]
);
ALTER TABLE public.docs ALTER COLUMN body SET STORAGE EXTERNAL, ALTER COLUMN blob SET STORAGE EXTERNAL,
  ALTER COLUMN doc SET STORAGE EXTERNAL, ALTER COLUMN numbers SET STORAGE EXTERNAL;
