-- Chronicle 0.6.0 -> 0.7.0: personal data. chronicle.define_personal_data
-- declares which members of an event type are personal; appends store them
-- sealed with the data subject's key (chronicle_internal.subject_keys, the
-- owner's only), every read opens them, and chronicle.forget_subject
-- destroys a key, after which they read as {"erased": true}
-- (chronicle.forgotten audits it). Run by ALTER EXTENSION chronicle UPDATE;
-- tests/upgrade/run.py checks that it gives the same catalog as a fresh
-- CREATE EXTENSION of 0.7.0. Frozen: never edited after its release.

\echo Use "ALTER EXTENSION chronicle UPDATE" to load this file. \quit

-- Every update empties the snapshot cache: the rules that fill it may have
-- changed, and it rebuilds itself (deleting snapshots never changes an answer).
TRUNCATE chronicle.snapshots;

-- As sql/schema.sql creates them in 0.7.0. Nullable columns without
-- defaults: catalog only, no rewrite of the log.
ALTER TABLE chronicle.event_log
    ADD COLUMN personal_key   uuid,
    ADD COLUMN personal_paths text[];
COMMENT ON COLUMN chronicle.event_log.personal_key IS
    'The key (chronicle_internal.subject_keys.key_id) the event''s personal members are sealed with, NULL for an event without personal data (chronicle.define_personal_data). Once chronicle.forget_subject destroyed the key, those members read as {"erased": true}.';
COMMENT ON COLUMN chronicle.event_log.personal_paths IS
    'The pointers of the event''s sealed personal members (/email: a member of data, /metadata/ip: of metadata), each stored as {"$sealed": "<base64 of nonce and ciphertext>"}; chronicle.events shows them opened.';
CREATE INDEX events_personal_key_idx ON chronicle.event_log (personal_key)
    WHERE personal_key IS NOT NULL;
ALTER TABLE chronicle.event_archive
    ADD COLUMN personal_key   uuid,
    ADD COLUMN personal_paths text[];

ALTER TABLE chronicle.stream_bases
    ADD COLUMN personal_state text,
    ADD COLUMN personal_keys  uuid[];
COMMENT ON COLUMN chronicle.stream_bases.personal_state IS
    'A base folded from personal members (chronicle.define_personal_data), sealed with a key derived from personal_keys; state_at starts from it while none of those subjects is forgotten, and from state (the same fold with every personal member erased) after.';
COMMENT ON COLUMN chronicle.stream_bases.personal_keys IS
    'The keys (chronicle_internal.subject_keys.key_id) of the subjects whose personal members the base was folded from, in the order its key is derived from.';

CREATE FUNCTION chronicle_internal."_base_state"(
	"stream_id" TEXT,
	"version" bigint,
	"state" jsonb,
	"personal_state" TEXT,
	"personal_keys" uuid[]
) RETURNS jsonb
STABLE PARALLEL RESTRICTED
LANGUAGE c
AS 'MODULE_PATHNAME', '_base_state_wrapper';
COMMENT ON FUNCTION chronicle_internal._base_state(text, bigint, jsonb, text, uuid[]) IS
    'Internal: a truncated stream''s base state: the sealed whole while none of its subjects is forgotten, else the state with every personal member erased.';
REVOKE ALL ON FUNCTION chronicle_internal._base_state(text, bigint, jsonb, text, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chronicle_internal._base_state(text, bigint, jsonb, text, uuid[]) TO chronicle_reader;

CREATE FUNCTION chronicle_internal._reveal(member jsonb, part text, event_id uuid, personal_key uuid, personal_paths text[])
RETURNS jsonb
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'reveal_wrapper';
COMMENT ON FUNCTION chronicle_internal._reveal(jsonb, text, uuid, uuid, text[]) IS
    'Internal: an event''s data or metadata (part) with its sealed personal members opened with the subject''s key, or {"erased": true} once chronicle.forget_subject destroyed it.';
REVOKE ALL ON FUNCTION chronicle_internal._reveal(jsonb, text, uuid, uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chronicle_internal._reveal(jsonb, text, uuid, uuid, text[]) TO chronicle_reader;

-- The reads show data and metadata opened (the same columns: the views'
-- grants and comments stay).
CREATE OR REPLACE VIEW chronicle.events WITH (security_invoker = true) AS
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
  FROM chronicle.event_log e;

CREATE OR REPLACE VIEW chronicle.archived_events WITH (security_invoker = true) AS
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

CREATE OR REPLACE FUNCTION chronicle_internal._feed_range(after_position bigint, up_to bigint) RETURNS SETOF chronicle.events
LANGUAGE sql STABLE
AS $$
SELECT c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1,
       e.event_id, e.stream_id, e.stream_type, e.version, e.event_type, e.schema_version,
       CASE WHEN e.personal_key IS NULL THEN e.data
            ELSE chronicle_internal._reveal(e.data, 'data', e.event_id, e.personal_key, e.personal_paths) END,
       CASE WHEN e.personal_key IS NULL THEN e.metadata
            ELSE chronicle_internal._reveal(e.metadata, 'metadata', e.event_id, e.personal_key, e.personal_paths) END,
       e.correlation_id, e.causation_id, e.actor, e.occurred_at, e.recorded_at
  FROM chronicle.feed c
 CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(c.keys), pg_catalog.unnest(c.ids)) WITH ORDINALITY AS u(key, id, ord)
 CROSS JOIN LATERAL (
       SELECT l.* FROM chronicle.event_log l
        WHERE l.seal_key OPERATOR(pg_catalog.=) u.key AND l.id OPERATOR(pg_catalog.=) u.id
       OFFSET 0) e
 WHERE c.first_position OPERATOR(pg_catalog.>) (after_position OPERATOR(pg_catalog.-) 128)
   AND c.first_position OPERATOR(pg_catalog.<=) up_to
   AND (c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.>) after_position
   AND (c.first_position OPERATOR(pg_catalog.+) u.ord OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.<=) up_to
$$;

-- Personal data (0.7.0 on; pg_extension/src/personal.rs): which members of
-- which event types are personal, the data subjects' keys, and the audit of
-- erasures. See the README, "Personal data".
CREATE TABLE chronicle_internal.personal_data_definitions (
    event_type  text        NOT NULL,
    subject     text        NOT NULL,
    paths       text[]      NOT NULL CHECK (pg_catalog.cardinality(paths) > 0),
    defined_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT personal_data_definitions_pkey PRIMARY KEY (event_type)
);
COMMENT ON TABLE chronicle_internal.personal_data_definitions IS
    'Internal: the personal data of each event type (chronicle.define_personal_data); read chronicle.personal_data.';
SELECT pg_catalog.pg_extension_config_dump('chronicle_internal.personal_data_definitions', '');

-- One key per data subject and tenant: 256 random bits. Readable by the
-- owner only (no role is granted anything on it); chronicle.forget_subject
-- deletes a subject's row, after which the subject's sealed members read as
-- erased. Dumped with the data: a dump holds the keys.
CREATE TABLE chronicle_internal.subject_keys (
    tenant      text        NOT NULL,
    subject     text        NOT NULL,
    key_id      uuid        NOT NULL,
    key         bytea       NOT NULL CHECK (pg_catalog.octet_length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT subject_keys_pkey PRIMARY KEY (tenant, subject),
    CONSTRAINT subject_keys_key_id_key UNIQUE (key_id)
);
COMMENT ON TABLE chronicle_internal.subject_keys IS
    'Internal: the key of each data subject of each tenant, with which its events'' personal members are sealed (XChaCha20-Poly1305). Readable by the extension''s owner only; chronicle.forget_subject deletes a row for good.';
SELECT pg_catalog.pg_extension_config_dump('chronicle_internal.subject_keys', '');

-- Every erasure: which subject, when, by whom, why and how many events it
-- made unreadable. Append-only, like the log; no personal data in it.
CREATE SEQUENCE chronicle.forgotten_id_seq AS bigint;
CREATE TABLE chronicle.forgotten (
    id            bigint      NOT NULL DEFAULT pg_catalog.nextval('chronicle.forgotten_id_seq'),
    subject       text        NOT NULL,
    forgotten_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    forgotten_by  text        NOT NULL,
    reason        text,
    events        bigint      NOT NULL CHECK (events >= 0),
    tenant        text        NOT NULL DEFAULT '',
    CONSTRAINT forgotten_pkey PRIMARY KEY (id)
);
ALTER SEQUENCE chronicle.forgotten_id_seq OWNED BY chronicle.forgotten.id;
CREATE INDEX forgotten_subject_idx ON chronicle.forgotten (tenant, subject);
COMMENT ON TABLE chronicle.forgotten IS
    'Every erasure (chronicle.forget_subject): the data subject whose key was destroyed, when, by whom, why, and how many events had personal members sealed with it. Append-only; readable by chronicle_admin.';
COMMENT ON COLUMN chronicle.forgotten.subject IS 'The subject''s id as the events name it (an opaque id, not personal data itself).';
COMMENT ON COLUMN chronicle.forgotten.forgotten_by IS 'The role that called chronicle.forget_subject (after SET ROLE).';
COMMENT ON COLUMN chronicle.forgotten.events IS 'How many events (stored or archived) had personal members sealed with the destroyed key; they read as {"erased": true} since.';
COMMENT ON COLUMN chronicle.forgotten.tenant IS 'The tenant whose subject it was.';
SELECT pg_catalog.pg_extension_config_dump('chronicle.forgotten', '');
SELECT pg_catalog.pg_extension_config_dump('chronicle.forgotten_id_seq', '');
CREATE TRIGGER forgotten_append_only
    BEFORE UPDATE OR DELETE ON chronicle.forgotten
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
CREATE TRIGGER forgotten_no_truncate
    BEFORE TRUNCATE ON chronicle.forgotten
    FOR EACH STATEMENT EXECUTE FUNCTION chronicle_internal._refuse_history_change();
ALTER TABLE chronicle.forgotten ENABLE ALWAYS TRIGGER forgotten_append_only;
ALTER TABLE chronicle.forgotten ENABLE ALWAYS TRIGGER forgotten_no_truncate;

CREATE VIEW chronicle.personal_data AS
SELECT d.event_type, d.subject, d.paths, d.defined_at
  FROM chronicle_internal.personal_data_definitions d;
COMMENT ON VIEW chronicle.personal_data IS
    'The personal data of each event type (chronicle.define_personal_data): the JSON pointer of the data subject''s id and of the members stored sealed with the subject''s key, which chronicle.forget_subject destroys.';
COMMENT ON COLUMN chronicle.personal_data.subject IS
    'Where an event names its data subject: a member of data (/customer_id) or of the envelope (/actor). Stored as written: use an opaque id, not an e-mail address.';
COMMENT ON COLUMN chronicle.personal_data.paths IS
    'The personal members, sealed at append: members of data (/email) or metadata (/metadata/ip).';
COMMENT ON COLUMN chronicle.personal_data.defined_at IS
    'When the definition was made; it applies to the events appended since (earlier events keep how they were stored).';

CREATE FUNCTION chronicle."define_personal_data"(
	"event_type" TEXT,
	"subject" TEXT,
	"paths" TEXT[]
) RETURNS void
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'define_personal_data_wrapper';
COMMENT ON FUNCTION chronicle.define_personal_data(text, text, text[]) IS
    'Declares the personal data of an event type (chronicle_admin): subject is the JSON pointer of the data subject''s id (a member of data such as /customer_id, or /actor), paths the pointers of the personal members (/email: data; /metadata/ip: metadata). Events of the type appended from then on store those members sealed with the subject''s key; every read opens them, and after chronicle.forget_subject they read as {"erased": true}. Defining it again replaces the definition for later appends.';

CREATE FUNCTION chronicle."forget_subject"(
	"subject" TEXT,
	"reason" TEXT DEFAULT NULL
) RETURNS bigint
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'forget_subject_wrapper';
COMMENT ON FUNCTION chronicle.forget_subject(text, text) IS
    'Forgets a data subject of the session''s tenant (chronicle_admin): destroys the key its events'' personal members are sealed with and returns how many events had any. From the commit on, those members read as {"erased": true} in every read (read_stream, read_all, poll, chronicle.events, export_stream, state_at, ...); nothing else changes. A later append naming the subject gets a new key. Recorded in chronicle.forgotten with reason. 42704 for a subject no event named; 0 for one forgotten already and not named since.';

-- Privileges and row-level security, as sql/security.sql sets them.
REVOKE ALL ON chronicle_internal.personal_data_definitions, chronicle_internal.subject_keys,
              chronicle.forgotten, chronicle.forgotten_id_seq, chronicle.personal_data FROM PUBLIC;
REVOKE ALL ON FUNCTION chronicle.define_personal_data(text, text, text[]),
                       chronicle.forget_subject(text, text) FROM PUBLIC;
GRANT SELECT ON chronicle.personal_data, chronicle_internal.personal_data_definitions TO chronicle_reader;
GRANT SELECT ON chronicle.forgotten TO chronicle_admin;
GRANT EXECUTE ON FUNCTION chronicle.define_personal_data(text, text, text[]),
                          chronicle.forget_subject(text, text) TO chronicle_admin;
ALTER VIEW chronicle.personal_data SET (security_invoker = true);
ALTER TABLE chronicle.forgotten ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_tenant ON chronicle.forgotten
    USING (tenant OPERATOR(pg_catalog.=) (SELECT chronicle.current_tenant()));
