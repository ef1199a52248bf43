-- The baseline of the append benchmark: a plain table with the same columns,
-- defaults and indexes as chronicle.events, written with raw INSERTs.
DROP TABLE IF EXISTS bench_raw;
DROP SEQUENCE IF EXISTS bench_raw_version;
DROP SEQUENCE IF EXISTS bench_raw_position;
CREATE SEQUENCE bench_raw_version;
CREATE TABLE bench_raw (LIKE chronicle.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
-- LIKE copies the position default (nextval of Chronicle's sequence); give
-- the baseline a sequence of its own so the two do not share one.
CREATE SEQUENCE bench_raw_position;
ALTER TABLE bench_raw ALTER COLUMN global_position SET DEFAULT nextval('bench_raw_position');
ALTER TABLE bench_raw ALTER COLUMN event_id SET DEFAULT gen_random_uuid();
