-- The baseline of the append benchmark: the naive event store Chronicle
-- replaces (one table, a bigserial position, an index per query)
-- (and of Chronicle 0.1) -- one table with the envelope's columns, a
-- bigserial position and the same indexes -- written with raw INSERTs. It is
-- spelled out (not LIKE chronicle.event_log) so that it stays the same
-- yardstick while Chronicle's own storage changes.
DROP TABLE IF EXISTS bench_raw;
DROP SEQUENCE IF EXISTS bench_raw_version;
CREATE SEQUENCE bench_raw_version;
CREATE TABLE bench_raw (
    global_position bigserial   PRIMARY KEY,
    event_id        uuid        NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL CHECK (version >= 1),
    event_type      text        NOT NULL,
    schema_version  int         NOT NULL DEFAULT 1 CHECK (schema_version >= 1),
    data            jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    metadata        jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    correlation_id  uuid,
    causation_id    uuid,
    actor           text,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
);
CREATE INDEX ON bench_raw (stream_type, occurred_at);
CREATE INDEX ON bench_raw (event_type, occurred_at);
CREATE INDEX ON bench_raw (correlation_id, global_position) WHERE correlation_id IS NOT NULL;
