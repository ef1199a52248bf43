-- A stream's lifecycle: the views over retention (the functions are Rust:
-- pg_extension/src/lifecycle.rs, retention.rs).

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
