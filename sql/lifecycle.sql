-- A stream's lifecycle: the views over retention and the archive (the
-- functions are Rust: pg_extension/src/lifecycle.rs, retention.rs).

CREATE VIEW chronicle.retention AS
SELECT r.stream_type, r.max_age, r.max_count, r.defined_at,
       (SELECT count(*) FROM chronicle.streams s
         WHERE s.stream_type OPERATOR(pg_catalog.=) r.stream_type AND s.deleted_at IS NULL) AS streams,
       l.last_applied_at, coalesce(l.events_removed, 0) AS events_removed
  FROM chronicle.retention_rules r
  LEFT JOIN LATERAL (
        SELECT pg_catalog.max(g.recorded_at) AS last_applied_at, pg_catalog.sum(g.events)::bigint AS events_removed
          FROM chronicle.lifecycle_log g
         WHERE g.operation OPERATOR(pg_catalog.=) 'retention'
           AND g.stream_type OPERATOR(pg_catalog.=) r.stream_type) l ON true;
COMMENT ON VIEW chronicle.retention IS
    'The retention rule of each stream type (chronicle.set_retention) with its number of streams (not deleted), when retention last cut one of them and how many events it has removed (of the tenants the reader sees).';

-- The archived streams' events with their places in the global feed, as
-- chronicle.events shows the others' (the same lookup of the chunk that
-- holds each: archiving moves no position).
CREATE VIEW chronicle.archived_events AS
SELECT (SELECT c.first_position OPERATOR(pg_catalog.+) pg_catalog.array_position(c.ids, e.id) OPERATOR(pg_catalog.-) 1
          FROM pg_catalog.generate_series(0, (SELECT pg_catalog.max(s.era) FROM chronicle.feed_state s)) AS r(era)
         CROSS JOIN LATERAL (
               SELECT f.first_position, f.ids FROM chronicle.feed f
                WHERE f.era OPERATOR(pg_catalog.=) r.era
                  AND (f.first_key, f.first_id) OPERATOR(pg_catalog.<=) (e.seal_key, e.id)
                ORDER BY f.era DESC, f.first_key DESC, f.first_id DESC
                LIMIT 1) c
         WHERE pg_catalog.array_position(c.ids, e.id) IS NOT NULL
         LIMIT 1) AS global_position,
       e.event_id, e.stream_id, e.stream_type, e.version, e.event_type, e.schema_version,
       CASE WHEN e.personal_key IS NULL THEN e.data
            ELSE chronicle_internal._reveal(e.data, 'data', e.event_id, e.personal_key, e.personal_paths) END AS data,
       CASE WHEN e.personal_key IS NULL THEN e.metadata
            ELSE chronicle_internal._reveal(e.metadata, 'metadata', e.event_id, e.personal_key, e.personal_paths) END AS metadata,
       e.correlation_id, e.causation_id, e.actor, e.occurred_at, e.recorded_at
  FROM chronicle.event_archive e;
COMMENT ON VIEW chronicle.archived_events IS
    'The events of archived streams (chronicle.archive_stream) with their global_position, in the shape of chronicle.events; read_stream(..., include_archived => true) reads them.';
