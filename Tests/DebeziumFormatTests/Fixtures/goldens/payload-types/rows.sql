-- json keeps the text exactly as written (spacing, key order, duplicate keys); text and varchar are
-- arbitrary strings. Every statement is its own transaction, except the BEGIN ... COMMIT block.
-- 1. json with irregular spacing and a duplicate key
INSERT INTO public.outbox_json VALUES ('00000000-0000-4000-8000-000000000001', 'Json', 'json-1', 'JsonEvent',
  '{"b":1,  "a" : [ 1,2 ],"b":2}');
-- 2. json: unicode as raw characters and as \u escapes, an emoji, a newline escape, </script>
INSERT INTO public.outbox_json VALUES ('00000000-0000-4000-8000-000000000002', 'Json', 'json-2', 'JsonEvent',
  $json${"s": "é \u00e9 😀 \ud83d\ude00 日本 \n </script>", "n": 1.5e3}$json$);
-- 3. json NULL
INSERT INTO public.outbox_json VALUES ('00000000-0000-4000-8000-000000000003', 'Json', 'json-3', 'JsonEvent', NULL);
-- 4. text: raw newline, tab, CR, BS, FF, VT, ESC, control characters 0x01 and 0x1f, DEL, U+0085,
--    U+2028, é, emoji, CJK, quotes, backslash, </script>, &, a non-JSON string
INSERT INTO public.outbox_text VALUES ('00000000-0000-4000-8000-000000000004', 'Text', 'text-1', 'TextEvent',
  E'line1\nline2\ttab \r cr \b bs \f ff \x0b vt \x1b esc \x01\x1f ctrl \x7f del \u0085 nel \u2028 é 😀 日本 "quoted" back\\slash </script> & <b> \'');
-- 5. text: the empty string
INSERT INTO public.outbox_text VALUES ('00000000-0000-4000-8000-000000000005', 'Text', 'text-2', 'TextEvent', '');
-- 6. text NULL
INSERT INTO public.outbox_text VALUES ('00000000-0000-4000-8000-000000000006', 'Text', 'text-3', 'TextEvent', NULL);
-- 7-9. one transaction across the tables: varchar JSON text, varchar empty string, text with JSON text
BEGIN;
INSERT INTO public.outbox_varchar VALUES ('00000000-0000-4000-8000-000000000007', 'Varchar', 'varchar-1', 'VarcharEvent',
  '{"json" : "in varchar",  "n":1.0}');
INSERT INTO public.outbox_varchar VALUES ('00000000-0000-4000-8000-000000000008', 'Varchar', 'varchar-2', 'VarcharEvent', '');
INSERT INTO public.outbox_text VALUES ('00000000-0000-4000-8000-000000000009', 'Text', NULL, 'TextEvent',
  '{"json":"in text"}');
COMMIT;
-- 10. varchar NULL, last
INSERT INTO public.outbox_varchar VALUES ('00000000-0000-4000-8000-00000000000a', 'Varchar', 'varchar-3', 'VarcharEvent', NULL);
