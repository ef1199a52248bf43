-- The extension's objects: everything lives in schema chronicle, every
-- function is commented and declares its volatility.
SELECT extname, extversion, nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'chronicle';

-- Functions with their volatility, strictness and parallel safety.
SELECT p.proname, p.pronargs AS nargs, p.provolatile AS volatility, p.proisstrict AS strict, p.proparallel AS parallel
  FROM pg_proc p
 WHERE p.pronamespace = 'chronicle'::regnamespace
 ORDER BY 1, 2;

-- No function, table or column without a comment.
SELECT 'function' AS kind, p.oid::regprocedure::text AS name
  FROM pg_proc p
 WHERE p.pronamespace = 'chronicle'::regnamespace
   AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'table', c.oid::regclass::text
  FROM pg_class c
 WHERE c.relnamespace = 'chronicle'::regnamespace AND c.relkind = 'r'
   AND obj_description(c.oid, 'pg_class') IS NULL;

-- The indexes the seeds ask for, the sealer's, and the feed's.
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
  FROM pg_index
 WHERE indrelid IN ('chronicle.event_log'::regclass, 'chronicle.streams'::regclass,
                    'chronicle.feed'::regclass, 'chronicle.subscriptions'::regclass,
                    'chronicle.subscription_consumers'::regclass)
 ORDER BY 1::text;

-- The tables pg_dump dumps with the extension (everything but the snapshot cache).
SELECT unnest(extconfig)::regclass::text AS dumped FROM pg_extension WHERE extname = 'chronicle' ORDER BY 1;

-- The signature of the public API (argument names are part of it).
SELECT unnest(string_to_array(pg_get_function_arguments('chronicle.append_event'::regproc), ', ')) AS append_event;
SELECT unnest(string_to_array(pg_get_function_arguments('chronicle.append_events'::regproc), ', ')) AS append_events;
SELECT pg_get_function_result('chronicle.read_stream'::regproc) AS read_stream_returns;

-- The feed's public signatures (the issue's names).
SELECT p.proname, pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS returns
  FROM pg_proc p
 WHERE p.pronamespace = 'chronicle'::regnamespace
   AND p.proname IN ('read_all', 'create_subscription', 'drop_subscription', 'poll', 'ack',
                     'pause_subscription', 'resume_subscription', 'reset_subscription',
                     'fail_subscription', 'seal', 'feed_head')
 ORDER BY 1;
