-- Three outbox tables, identical but for the type of payload: json, text, varchar(4000).
CREATE TABLE public.outbox_json (
  id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255),
  type varchar(255) NOT NULL, payload json);
CREATE TABLE public.outbox_text (
  id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255),
  type varchar(255) NOT NULL, payload text);
CREATE TABLE public.outbox_varchar (
  id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255),
  type varchar(255) NOT NULL, payload varchar(4000));
