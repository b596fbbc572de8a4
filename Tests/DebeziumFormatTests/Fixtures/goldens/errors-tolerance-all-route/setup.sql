-- A table whose topic column names each record's topic (ExtractNewRecordState's route.by.field); nullable.
CREATE TABLE public.items (
  id    integer PRIMARY KEY,
  topic text,
  qty   integer
);
