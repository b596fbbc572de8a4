-- A row whose four toastable values are stored out of line; an UPDATE that leaves them unchanged (pgoutput
-- sends them as 'u', unchanged TOAST); an UPDATE that changes body only; a DELETE.
INSERT INTO public.docs
SELECT 1, 'v1',
       (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i),
       (SELECT decode(string_agg(md5(i::text), ''), 'hex') FROM generate_series(101, 400) i),
       (SELECT jsonb_agg(md5(i::text)) FROM generate_series(201, 300) i),
       (SELECT array_agg(i * 7919 % 100003) FROM generate_series(1, 1000) i);
UPDATE public.docs SET title = 'v2' WHERE id = 1;
UPDATE public.docs SET body = 'short body' WHERE id = 1;
DELETE FROM public.docs WHERE id = 1;
