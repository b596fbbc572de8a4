-- Two captured tables with a `route` column: text in tags, integer in items. ExtractNewRecordState's
-- route.by.field=route reads it as text, which fails for every record of items.
CREATE TABLE public.items (
  id    integer PRIMARY KEY,
  route integer
);
CREATE TABLE public.tags (
  id    integer PRIMARY KEY,
  route text
);
