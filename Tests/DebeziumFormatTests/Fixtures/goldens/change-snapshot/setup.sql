-- Two captured tables with rows before Debezium starts: its initial snapshot reads them (op r).
CREATE TABLE public.items (
  id         integer PRIMARY KEY,
  name       text NOT NULL,
  qty        integer,
  price      numeric(8,2),
  updated_at timestamptz
);
CREATE TABLE public.tags (
  id    integer PRIMARY KEY,
  label text NOT NULL
);
INSERT INTO public.items VALUES (1, 'apple', 3, 1.25, '2024-05-06 07:08:09.123456+00'), (2, 'pear', NULL, NULL, NULL),
  (3, 'plum', 7, 0.50, NULL);
INSERT INTO public.tags VALUES (10, 'fruit'), (11, 'green');
