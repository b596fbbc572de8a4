-- Every statement is its own transaction, except the BEGIN ... COMMIT block of three rows.
-- 1. arbitrary binary bytes, including 0x00, 0x7f, 0x80, 0xff
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000001', 'Blob', 'blob-1', 'BlobStored', '\x00ff7f80010203fe0a0d');
-- 2. an empty bytea
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000002', 'Blob', 'blob-2', 'BlobStored', '\x');
-- 3. a NULL payload
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000003', 'Blob', 'blob-3', 'BlobStored', NULL);
-- 4. UTF-8 JSON text stored as bytes
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000004', 'Blob', 'blob-4', 'BlobStored', convert_to('{"a": "é😀"}', 'UTF8'));
-- 5. bytes that are not valid UTF-8
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000005', 'Blob', 'blob-5', 'BlobStored', '\xc328a0a1e28228f09f98');
-- 6. a NULL aggregateid (the record key is null)
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000006', 'Blob', NULL, 'BlobStored', '\x01');
-- 7-9. one transaction of three rows, second aggregate type (second topic)
BEGIN;
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000007', 'Image', 'image-a', 'ImageStored', '\x89504e470d0a1a0a');
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000008', 'Image', 'image-b', 'ImageStored', '\xffd8ffe0');
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000009', 'Image', 'image-c', 'ImageStored', '\x00');
COMMIT;
-- An UPDATE and a DELETE: the EventRouter publishes nothing for them.
UPDATE public.outbox SET payload = '\xaa' WHERE id = '00000000-0000-4000-8000-000000000001';
DELETE FROM public.outbox WHERE id = '00000000-0000-4000-8000-000000000002';
-- 10. a last insert, so that the capture knows the UPDATE and DELETE were processed before it
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-00000000000a', 'Image', 'image-d', 'ImageStored', '\x0000');
