-- The extension's objects: the API lives in schema chronicle, its helpers in
-- chronicle_internal; every function is commented and declares its
-- volatility.
SELECT extname, extversion, nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'chronicle';

-- Functions with their volatility, strictness and parallel safety.
SELECT p.pronamespace::regnamespace AS schema, p.proname, p.pronargs AS nargs, p.provolatile AS volatility,
       p.proisstrict AS strict, p.proparallel AS parallel
  FROM pg_proc p
 WHERE p.pronamespace IN ('chronicle'::regnamespace, 'chronicle_internal'::regnamespace)
 ORDER BY 1, 2, 3;

-- No function, table or column without a comment.
SELECT 'function' AS kind, p.oid::regprocedure::text AS name
  FROM pg_proc p
 WHERE p.pronamespace IN ('chronicle'::regnamespace, 'chronicle_internal'::regnamespace)
   AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'table', c.oid::regclass::text
  FROM pg_class c
 WHERE c.relnamespace = 'chronicle'::regnamespace AND c.relkind = 'r'
   AND obj_description(c.oid, 'pg_class') IS NULL;

-- The indexes of the queries event stores run (by stream type, by event
-- type, by correlation), the sealer's, and the feed's.
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
  FROM pg_index
 WHERE indrelid IN ('chronicle.event_log'::regclass, 'chronicle.streams'::regclass,
                    'chronicle.feed'::regclass, 'chronicle.subscriptions'::regclass,
                    'chronicle.subscription_consumers'::regclass)
 ORDER BY indexrelid::regclass::text;

-- The tables pg_dump dumps with the extension (everything but the snapshot cache).
SELECT unnest(extconfig)::regclass::text AS dumped FROM pg_extension WHERE extname = 'chronicle' ORDER BY 1;

-- The signature of the public API (argument names are part of it).
SELECT unnest(string_to_array(pg_get_function_arguments('chronicle.append_event(text,text,jsonb,jsonb,bigint,uuid,text,text,text,text,timestamptz,int,bigint)'::regprocedure), ', ')) AS append_event;
SELECT unnest(string_to_array(pg_get_function_arguments('chronicle.append_events(text,jsonb,bigint,text)'::regprocedure), ', ')) AS append_events;
SELECT pg_get_function_result('chronicle.read_stream(text,bigint,bigint,boolean,boolean)'::regprocedure) AS read_stream_returns;

-- Every public function's signature (the naming rules of the README: the
-- object acted on first; after_position / to_position; max_count; a
-- definition's payload is definition), deprecated ones marked.
SELECT p.proname, pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS returns,
       obj_description(p.oid, 'pg_proc') LIKE 'Deprecated%' AS deprecated
  FROM pg_proc p
 WHERE p.pronamespace = 'chronicle'::regnamespace
 ORDER BY 1, 2;
