-- chronicle_message_store 0.1.0: message-db 1.3.0's SQL API (schema
-- message_store) on Chronicle's storage. CREATE EXTENSION of 0.1.0. Frozen:
-- never edited after its release (a change is a new version and an upgrade
-- script, as for chronicle itself).
--
-- A message is a Chronicle event: stream_name = stream_id, type =
-- event_type, position = version - 1, global_position = Chronicle's dense,
-- commit-safe global position, id = event_id, time = occurred_at in UTC, data
-- as it is, metadata as it is ({} reads as NULL). A stream written here gets
-- its category (the part of its name before the first '-') as stream type.
-- The README's "message-db on Chronicle" has the mapping and the differences.
--
-- Every name is schema-qualified (the extension's functions run with any
-- search_path; message-db's clients find them through "$user" when they log
-- in as role message_store, or through their own search_path).

\echo Use "CREATE EXTENSION chronicle_message_store" to load this file. \quit

-- Chronicle's catalog must be 0.7.0 or later (the columns, the feed's
-- internal windows and the library's write_message this script uses).
DO $check$
BEGIN
    IF (SELECT pg_catalog.string_to_array(e.extversion, '.')::int[] FROM pg_catalog.pg_extension e
         WHERE e.extname OPERATOR(pg_catalog.=) 'chronicle') OPERATOR(pg_catalog.<) '{0,7,0}'::int[] THEN
        RAISE EXCEPTION 'chronicle_message_store needs the chronicle extension at version 0.7.0 or later'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Run ALTER EXTENSION chronicle UPDATE first.';
    END IF;
END
$check$;

-- message-db's row type of every read.
CREATE TYPE message_store.message AS (
    id              varchar,
    stream_name     varchar,
    type            varchar,
    position        bigint,
    global_position bigint,
    data            varchar,
    metadata        varchar,
    time            timestamp
);
COMMENT ON TYPE message_store.message IS
    'message-db: a message as every read returns it (data and metadata as text, time in UTC).';

-- Stream names (message-db's rules, not Chronicle's): the category is what
-- comes before the first '-' (all of a name without one), the id what comes
-- after it (NULL without one), the cardinal id the id up to its first '+'
-- (a compound id "123+abc" belongs to the consumer of "123"). SQL functions
-- without SET clauses, so that Postgres inlines them into the reads.

CREATE FUNCTION message_store.id(stream_name varchar) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.strpos(stream_name, '-') OPERATOR(pg_catalog.=) 0 THEN NULL
            ELSE pg_catalog.substr(stream_name, pg_catalog.strpos(stream_name, '-') OPERATOR(pg_catalog.+) 1) END;
COMMENT ON FUNCTION message_store.id(varchar) IS
    'message-db: the id part of a stream name (after the first ''-''; NULL if there is none).';

CREATE FUNCTION message_store.cardinal_id(stream_name varchar) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.split_part(message_store.id(stream_name), '+', 1);
COMMENT ON FUNCTION message_store.cardinal_id(varchar) IS
    'message-db: the id part of a stream name up to its first ''+'' (what consumer groups hash; NULL if there is no id).';

CREATE FUNCTION message_store.category(stream_name varchar) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.split_part(stream_name, '-', 1);
COMMENT ON FUNCTION message_store.category(varchar) IS
    'message-db: the category of a stream name (before the first ''-''; the whole name if there is none). Chronicle''s stream type of the streams written with write_message.';

CREATE FUNCTION message_store.is_category(stream_name varchar) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
-- NULL counts as a category, as in message-db.
RETURN coalesce(pg_catalog.strpos(stream_name, '-') OPERATOR(pg_catalog.=) 0, true);
COMMENT ON FUNCTION message_store.is_category(varchar) IS
    'message-db: whether a name is a category (has no ''-'').';

-- The first 64 bits of the value's MD5 as a signed bigint: message-db's
-- consumer-group hash, bit for bit (a consumer moved from message-db keeps
-- its streams).
CREATE FUNCTION message_store.hash_64(value varchar) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.left('x' OPERATOR(pg_catalog.||) pg_catalog.md5(value), 17)::pg_catalog.bit(64)::bigint;
COMMENT ON FUNCTION message_store.hash_64(varchar) IS
    'message-db: the first 64 bits of the value''s MD5 as a signed bigint (the consumer-group hash and the lock key of acquire_lock).';

-- message-db's write lock: an advisory lock on the category, until the
-- transaction ends. Kept for code that calls it; write_message does not take
-- it (Chronicle locks the stream only, so that writers to different streams
-- of a category never wait for each other).
CREATE FUNCTION message_store.acquire_lock(stream_name varchar) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _key bigint := message_store.hash_64(message_store.category(acquire_lock.stream_name));
BEGIN
    PERFORM pg_advisory_xact_lock(_key);
    RETURN _key;
END
$$;
COMMENT ON FUNCTION message_store.acquire_lock(varchar) IS
    'message-db: takes the transaction-scoped advisory lock of the stream''s category (key hash_64(category)) and returns its key. write_message does not take it: Chronicle locks only the stream written.';

CREATE FUNCTION message_store.message_store_version() RETURNS varchar
LANGUAGE sql VOLATILE
RETURN '1.3.0';
COMMENT ON FUNCTION message_store.message_store_version() IS
    'The message-db version whose interface this schema offers (1.3.0).';

-- message-db's table, as a view of Chronicle's events: the relation a
-- condition (get_stream_messages, get_category_messages) refers to, with
-- message-db's column names and types. Events not yet sealed have no
-- global_position yet (NULL, for milliseconds after their commit).
CREATE VIEW message_store.messages AS
SELECT e.global_position,
       e.version OPERATOR(pg_catalog.-) 1 AS position,
       (e.occurred_at AT TIME ZONE 'UTC')::timestamp AS time,
       e.stream_id AS stream_name,
       e.event_type AS type,
       e.data,
       NULLIF(e.metadata, '{}'::jsonb) AS metadata,
       e.event_id AS id
  FROM chronicle.events e
 WHERE e.version OPERATOR(pg_catalog.>=) 1;
ALTER VIEW message_store.messages SET (security_invoker = true);
COMMENT ON VIEW message_store.messages IS
    'message-db''s messages table as a view of chronicle.events (read-only: write with write_message). position = version - 1; time = occurred_at in UTC; metadata {} reads as NULL; global_position is NULL until the event is sealed.';

-- The messages at feed positions (after_position, up_to], as rows of the
-- view above: the windows get_category_messages reads. Inlined into its
-- query, with chronicle_internal._feed_range (the feed's chunks).
CREATE FUNCTION message_store._feed_window(after_position bigint, up_to bigint)
RETURNS SETOF message_store.messages
LANGUAGE sql STABLE
AS $$
SELECT e.global_position, e.version OPERATOR(pg_catalog.-) 1,
       (e.occurred_at AT TIME ZONE 'UTC')::timestamp, e.stream_id, e.event_type, e.data,
       NULLIF(e.metadata, '{}'::jsonb), e.event_id
  FROM chronicle_internal._feed_range(after_position, up_to) e
 WHERE e.version OPERATOR(pg_catalog.>=) 1
$$;
COMMENT ON FUNCTION message_store._feed_window(bigint, bigint) IS
    'Internal: the messages at global positions (after_position, up_to], unordered.';

-- The checks message-db makes, with its error texts (SQLSTATE P0001: what
-- RAISE EXCEPTION gives); the hints are Chronicle's.
CREATE FUNCTION message_store._check_condition(condition varchar) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF condition IS NOT NULL
       AND coalesce(current_setting('message_store.sql_condition', true), 'off') = 'off' THEN
        RAISE EXCEPTION 'Retrieval with SQL condition is not activated'
            USING HINT = 'SET message_store.sql_condition = on to allow a condition (an SQL expression over message_store.messages'' columns).';
    END IF;
END
$$;
COMMENT ON FUNCTION message_store._check_condition(varchar) IS
    'Internal: refuses a condition unless message_store.sql_condition is on (message-db''s rule).';

CREATE FUNCTION message_store._limit(batch_size bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF batch_size = -1 THEN
        RETURN NULL;  -- no limit
    END IF;
    IF batch_size < 0 THEN
        RAISE EXCEPTION 'LIMIT must not be negative' USING ERRCODE = 'invalid_row_count_in_limit_clause',
            HINT = 'Pass batch_size -1 for no limit, or a count from 0 on.';
    END IF;
    RETURN batch_size;
END
$$;
COMMENT ON FUNCTION message_store._limit(bigint) IS
    'Internal: the row limit of a batch_size (-1: none, NULL; another negative one is refused as message-db''s LIMIT refuses it).';

-- The position of a stream's last message (its Chronicle version - 1), NULL
-- if the stream does not exist.
CREATE FUNCTION message_store.stream_version(stream_name varchar) RETURNS bigint
LANGUAGE sql STABLE
RETURN (SELECT s.version OPERATOR(pg_catalog.-) 1 FROM chronicle.streams s
         WHERE s.stream_id OPERATOR(pg_catalog.=) stream_name);
COMMENT ON FUNCTION message_store.stream_version(varchar) IS
    'message-db: the position of the stream''s last message (Chronicle version - 1); NULL if the stream does not exist.';

-- Writes one message: Chronicle's append, in C (pg_extension/src/
-- message_store.rs, in chronicle's library), with message-db's rules and
-- words (shared/src/message_db.rs). The stream is locked by the append (its
-- head row), not the category; the expected version is judged under that
-- lock, so a conflict is message-db's P0001 however writers race. A message
-- id already stored is a unique violation, as in message-db (a Chronicle
-- append would take the same id and content as a retry). SECURITY DEFINER
-- as chronicle.append_event is: only the owner writes Chronicle's tables.
CREATE FUNCTION message_store.write_message(
    id varchar,
    stream_name varchar,
    "type" varchar,
    data jsonb,
    metadata jsonb DEFAULT NULL,
    expected_version bigint DEFAULT NULL
) RETURNS bigint
LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS '$libdir/chronicle', 'write_message_wrapper';
COMMENT ON FUNCTION message_store.write_message(varchar, varchar, varchar, jsonb, jsonb, bigint) IS
    'message-db: appends a message (a Chronicle event: event_id id, stream type the category for a new stream) and returns its position (version - 1). expected_version: the position of the stream''s last message, -1 for a stream that must not exist (else P0001 "Wrong expected version: ..."). Locks the stream, not the category. An id already stored is a unique violation (23505).';

CREATE FUNCTION message_store.get_stream_messages(
    stream_name varchar,
    "position" bigint DEFAULT 0,
    batch_size bigint DEFAULT 1000,
    condition varchar DEFAULT NULL
) RETURNS SETOF message_store.message
LANGUAGE plpgsql VOLATILE
-- No SET search_path: a condition names what the caller's search path
-- finds, as in message-db (category(stream_name) for a role message_store).
AS $$
BEGIN
    IF message_store.is_category(get_stream_messages.stream_name) THEN
        RAISE EXCEPTION 'Must be a stream name: %', get_stream_messages.stream_name
            USING HINT = 'A stream name has a ''-'' between its category and its id (account-123); read a category with get_category_messages.';
    END IF;
    PERFORM message_store._check_condition(condition);
    -- Positions are versions - 1: a stream's messages from position on.
    RETURN QUERY EXECUTE
        'SELECT messages.id::varchar, messages.stream_name::varchar, messages.type::varchar, messages.position,
                messages.global_position, messages.data::varchar, messages.metadata::varchar, messages.time
           FROM (SELECT e.version, e.global_position, e.version - 1 AS position,
                        (e.occurred_at AT TIME ZONE ''UTC'')::timestamp AS time, e.stream_id AS stream_name,
                        e.event_type AS type, e.data, nullif(e.metadata, ''{}''::jsonb) AS metadata, e.event_id AS id
                   FROM chronicle.events e
                  WHERE e.stream_id = $1 AND e.version > $2 AND e.version >= 1) messages
          WHERE ' || coalesce('(' || condition || ')', 'true') || '
          ORDER BY messages.version
          LIMIT $3'
        USING get_stream_messages.stream_name, coalesce(get_stream_messages.position, 0),
              message_store._limit(coalesce(batch_size, 1000));
END
$$;
COMMENT ON FUNCTION message_store.get_stream_messages(varchar, bigint, bigint, varchar) IS
    'message-db: a stream''s messages from position on (0-based; version - 1), at most batch_size (-1: all), optionally filtered by condition (an SQL expression over message_store.messages, only when message_store.sql_condition is on).';

CREATE FUNCTION message_store.get_last_stream_message(stream_name varchar, "type" varchar DEFAULT NULL)
RETURNS SETOF message_store.message
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT e.event_id::varchar, e.stream_id::varchar, e.event_type::varchar, e.version - 1, e.global_position,
       e.data::varchar, nullif(e.metadata, '{}'::jsonb)::varchar, (e.occurred_at AT TIME ZONE 'UTC')::timestamp
  FROM chronicle.events e
 WHERE e.stream_id = get_last_stream_message.stream_name AND e.version >= 1
   AND (get_last_stream_message.type IS NULL OR e.event_type = get_last_stream_message.type)
 ORDER BY e.version DESC
 LIMIT 1
$$;
COMMENT ON FUNCTION message_store.get_last_stream_message(varchar, varchar) IS
    'message-db: the stream''s last message (of the given type, if one is given); no row for a stream without one.';

-- A category's messages from global position on. Chronicle's positions are
-- dense and commit-safe: a message is read once sealed, and no message
-- committed later ever takes a position below one already read. The feed is
-- read in windows of positions, as chronicle.read_all does (sql/feed.sql's
-- _feed_page): a window that yields fewer messages than it has positions
-- makes the next one twice as wide.
CREATE FUNCTION message_store.get_category_messages(
    category varchar,
    "position" bigint DEFAULT 1,
    batch_size bigint DEFAULT 1000,
    correlation varchar DEFAULT NULL,
    consumer_group_member bigint DEFAULT NULL,
    consumer_group_size bigint DEFAULT NULL,
    condition varchar DEFAULT NULL
) RETURNS SETOF message_store.message
LANGUAGE plpgsql VOLATILE
-- No SET search_path, as get_stream_messages.
SET jit = off  -- the plans are cheap; JIT would compile them at every window
AS $$
DECLARE
    _limit bigint;
    _command text;
    _head bigint;
    _lo bigint;
    _hi bigint;
    _width bigint;
    _got bigint := 0;
    _n bigint;
BEGIN
    IF NOT message_store.is_category(get_category_messages.category) THEN
        RAISE EXCEPTION 'Must be a category: %', get_category_messages.category
            USING HINT = 'A category has no ''-'' (account); read a stream with get_stream_messages.';
    END IF;
    IF get_category_messages.correlation IS NOT NULL AND strpos(get_category_messages.correlation, '-') > 0 THEN
        RAISE EXCEPTION 'Correlation must be a category (Correlation: %)', get_category_messages.correlation
            USING HINT = 'Pass the category of the correlation stream (the part before its ''-'').';
    END IF;
    IF (consumer_group_member IS NULL) <> (consumer_group_size IS NULL) THEN
        RAISE EXCEPTION 'Consumer group member and size must be specified (Consumer Group Member: %, Consumer Group Size: %)',
              consumer_group_member, consumer_group_size
            USING HINT = 'Pass both consumer_group_member and consumer_group_size, or neither.';
    END IF;
    IF consumer_group_size IS NOT NULL THEN
        IF consumer_group_size < 1 THEN
            RAISE EXCEPTION 'Consumer group size must not be less than 1 (Consumer Group Member: %, Consumer Group Size: %)',
                  consumer_group_member, consumer_group_size
                USING HINT = 'A group has at least one member.';
        END IF;
        IF consumer_group_member < 0 THEN
            RAISE EXCEPTION 'Consumer group member must not be less than 0 (Consumer Group Member: %, Consumer Group Size: %)',
                  consumer_group_member, consumer_group_size
                USING HINT = 'Members are numbered from 0 to the group size - 1.';
        END IF;
        IF consumer_group_member >= consumer_group_size THEN
            RAISE EXCEPTION 'Consumer group member must be less than the group size (Consumer Group Member: %, Consumer Group Size: %)',
                  consumer_group_member, consumer_group_size
                USING HINT = 'Members are numbered from 0 to the group size - 1.';
        END IF;
        IF consumer_group_size > 32767 THEN
            -- What message-db's cast of the size to smallint raises.
            RAISE EXCEPTION 'smallint out of range' USING ERRCODE = 'numeric_value_out_of_range',
                HINT = 'A consumer group has at most 32767 members.';
        END IF;
    END IF;
    PERFORM message_store._check_condition(condition);
    _limit := message_store._limit(coalesce(batch_size, 1000));
    _command :=
        'SELECT messages.id::varchar, messages.stream_name::varchar, messages.type::varchar, messages.position,
                messages.global_position, messages.data::varchar, messages.metadata::varchar, messages.time
           FROM message_store._feed_window($1, $2) messages
          WHERE message_store.category(messages.stream_name) = $3
            AND ($4 IS NULL OR message_store.category(messages.metadata ->> ''correlationStreamName'') = $4)
            AND ($6 IS NULL OR mod(@ message_store.hash_64(message_store.cardinal_id(messages.stream_name)), $6) = $5)
            AND ' || coalesce('(' || condition || ')', 'true') || '
          ORDER BY messages.global_position
          LIMIT $7';
    PERFORM chronicle_internal._feed_tick();
    _head := chronicle.feed_head();
    _lo := greatest(coalesce(get_category_messages.position, 1), 1) - 1;
    _width := least(greatest(coalesce(_limit, 0), 1000), 1000000);
    WHILE (_limit IS NULL OR _got < _limit) AND _lo < _head LOOP
        _hi := least(_head, _lo + _width);
        RETURN QUERY EXECUTE _command
            USING _lo, _hi, get_category_messages.category::text, get_category_messages.correlation::text,
                  consumer_group_member, consumer_group_size::smallint, _limit - _got;
        GET DIAGNOSTICS _n = ROW_COUNT;
        _got := _got + _n;
        _lo := _hi;
        _width := least(_width * 2, 1000000);
    END LOOP;
END
$$;
COMMENT ON FUNCTION message_store.get_category_messages(varchar, bigint, bigint, varchar, bigint, bigint, varchar) IS
    'message-db: the messages of a category (streams named category-...) from global position on, in global_position order (Chronicle''s dense, commit-safe positions), at most batch_size (-1: all); correlation: only messages whose metadata.correlationStreamName has that category; consumer_group_member of consumer_group_size: only the streams whose hash_64(cardinal_id) falls to that member; condition: an SQL expression over message_store.messages (only when message_store.sql_condition is on).';

-- message-db's summary views: message counts and their share of all
-- messages (in percent, two decimals) by stream, type and category.
CREATE VIEW message_store.stream_summary AS
SELECT m.stream_name, pg_catalog.count(*) AS message_count,
       pg_catalog.round(pg_catalog.count(*) OPERATOR(pg_catalog.*) 100.0
                        OPERATOR(pg_catalog./) pg_catalog.sum(pg_catalog.count(*)) OVER (), 2) AS percent
  FROM message_store.messages m GROUP BY m.stream_name ORDER BY m.stream_name;
CREATE VIEW message_store.type_summary AS
SELECT m.type, pg_catalog.count(*) AS message_count,
       pg_catalog.round(pg_catalog.count(*) OPERATOR(pg_catalog.*) 100.0
                        OPERATOR(pg_catalog./) pg_catalog.sum(pg_catalog.count(*)) OVER (), 2) AS percent
  FROM message_store.messages m GROUP BY m.type ORDER BY m.type;
CREATE VIEW message_store.stream_type_summary AS
SELECT m.stream_name, m.type, pg_catalog.count(*) AS message_count,
       pg_catalog.round(pg_catalog.count(*) OPERATOR(pg_catalog.*) 100.0
                        OPERATOR(pg_catalog./) pg_catalog.sum(pg_catalog.count(*)) OVER (), 2) AS percent
  FROM message_store.messages m GROUP BY m.stream_name, m.type ORDER BY m.stream_name, m.type;
CREATE VIEW message_store.type_stream_summary AS
SELECT m.type, m.stream_name, pg_catalog.count(*) AS message_count,
       pg_catalog.round(pg_catalog.count(*) OPERATOR(pg_catalog.*) 100.0
                        OPERATOR(pg_catalog./) pg_catalog.sum(pg_catalog.count(*)) OVER (), 2) AS percent
  FROM message_store.messages m GROUP BY m.type, m.stream_name ORDER BY m.type, m.stream_name;
CREATE VIEW message_store.category_type_summary AS
SELECT message_store.category(m.stream_name) AS category, m.type, pg_catalog.count(*) AS message_count,
       pg_catalog.round(pg_catalog.count(*) OPERATOR(pg_catalog.*) 100.0
                        OPERATOR(pg_catalog./) pg_catalog.sum(pg_catalog.count(*)) OVER (), 2) AS percent
  FROM message_store.messages m GROUP BY 1, m.type ORDER BY 1, m.type;
CREATE VIEW message_store.type_category_summary AS
SELECT m.type, message_store.category(m.stream_name) AS category, pg_catalog.count(*) AS message_count,
       pg_catalog.round(pg_catalog.count(*) OPERATOR(pg_catalog.*) 100.0
                        OPERATOR(pg_catalog./) pg_catalog.sum(pg_catalog.count(*)) OVER (), 2) AS percent
  FROM message_store.messages m GROUP BY m.type, 2 ORDER BY m.type, 2;
COMMENT ON VIEW message_store.stream_summary IS 'message-db: messages per stream, and their share of all messages (percent).';
COMMENT ON VIEW message_store.type_summary IS 'message-db: messages per type, and their share of all messages (percent).';
COMMENT ON VIEW message_store.stream_type_summary IS 'message-db: messages per stream and type, and their share of all messages (percent).';
COMMENT ON VIEW message_store.type_stream_summary IS 'message-db: messages per type and stream, and their share of all messages (percent).';
COMMENT ON VIEW message_store.category_type_summary IS 'message-db: messages per category and type, and their share of all messages (percent).';
COMMENT ON VIEW message_store.type_category_summary IS 'message-db: messages per type and category, and their share of all messages (percent).';
ALTER VIEW message_store.stream_summary SET (security_invoker = true);
ALTER VIEW message_store.type_summary SET (security_invoker = true);
ALTER VIEW message_store.stream_type_summary SET (security_invoker = true);
ALTER VIEW message_store.type_stream_summary SET (security_invoker = true);
ALTER VIEW message_store.category_type_summary SET (security_invoker = true);
ALTER VIEW message_store.type_category_summary SET (security_invoker = true);

-- Moving a message-db database to Chronicle: copies the rows of a table
-- with message-db's columns (the old message_store.messages, its schema
-- renamed first: see the README) into Chronicle in global_position order,
-- committing every batch_size messages. Each message lands at its own
-- position (version position + 1) with its id, type, data, metadata and
-- time (occurred_at); a stream's type is its category. Run it again after
-- an interruption: the messages already copied are found again by their ids
-- (Chronicle's idempotent retry) and skipped. A procedure (CALL it outside
-- a transaction block), without SET clauses, which COMMIT forbids.
CREATE PROCEDURE message_store.import_messages(source regclass, batch_size int DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    _message record;
    _count bigint := 0;
    _bad bigint;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'message_store.import_messages: batch_size must be at least 1 (got %)', batch_size
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass how many messages to copy per transaction.';
    END IF;
    -- What Chronicle would refuse in the JSON, before anything is copied.
    EXECUTE pg_catalog.format(
        'SELECT global_position FROM %s WHERE data IS NULL OR pg_catalog.jsonb_typeof(data) OPERATOR(pg_catalog.<>) ''object''
            OR pg_catalog.jsonb_typeof(metadata) OPERATOR(pg_catalog.<>) ''object'' ORDER BY global_position LIMIT 1',
        source) INTO _bad;
    IF _bad IS NOT NULL THEN
        RAISE EXCEPTION 'message_store.import_messages: the message at global_position % of % has data that is not a JSON object, or metadata that is neither NULL nor one',
              _bad, source
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Chronicle stores data and metadata as JSON objects: wrap such values (e.g. {"value": ...}) in the source table, then copy again.';
    END IF;
    FOR _message IN EXECUTE pg_catalog.format(
        'SELECT global_position, position, time, stream_name, type, data, metadata, id FROM %s ORDER BY global_position',
        source)
    LOOP
        PERFORM chronicle.append_event(
            _message.stream_name, _message.type, _message.data, COALESCE(_message.metadata, '{}'),
            event_id => _message.id, stream_type => message_store.category(_message.stream_name),
            occurred_at => _message.time AT TIME ZONE 'UTC', version => _message.position OPERATOR(pg_catalog.+) 1);
        _count := _count OPERATOR(pg_catalog.+) 1;
        IF _count OPERATOR(pg_catalog.%) batch_size OPERATOR(pg_catalog.=) 0 THEN
            COMMIT;
        END IF;
    END LOOP;
    RAISE NOTICE 'message_store.import_messages: % messages of % copied (or found copied already)', _count, source;
END
$$;
COMMENT ON PROCEDURE message_store.import_messages(regclass, int) IS
    'Copies a message-db messages table (source, e.g. message_db.messages once the old schema is renamed) into Chronicle in global_position order, committing every batch_size messages; each message keeps its id, stream, position, type, data, metadata and time. Idempotent: run it again to finish an interrupted copy.';

-- Privileges. message-db's role (cluster-wide, LOGIN as message-db creates
-- it; kept by DROP EXTENSION): its clients log in as message_store and find
-- the functions through search_path "$user". It gets what message-db grants
-- it, and Chronicle's writer role, whose rights every write and read here
-- runs with. PUBLIC gets nothing, as in Chronicle.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) 'message_store') THEN
        CREATE ROLE message_store LOGIN;
    END IF;
END
$roles$;
GRANT chronicle_writer TO message_store;
REVOKE ALL ON SCHEMA message_store FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA message_store FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE message_store.import_messages(regclass, int) FROM PUBLIC;
GRANT USAGE ON SCHEMA message_store TO message_store, chronicle_reader;
GRANT SELECT ON message_store.messages, message_store.stream_summary, message_store.type_summary,
                message_store.stream_type_summary, message_store.type_stream_summary,
                message_store.category_type_summary, message_store.type_category_summary
   TO message_store, chronicle_reader;
GRANT EXECUTE ON FUNCTION
    message_store.id(varchar), message_store.cardinal_id(varchar), message_store.category(varchar),
    message_store.is_category(varchar), message_store.hash_64(varchar), message_store.acquire_lock(varchar),
    message_store.message_store_version(), message_store.stream_version(varchar),
    message_store.get_stream_messages(varchar, bigint, bigint, varchar),
    message_store.get_last_stream_message(varchar, varchar),
    message_store.get_category_messages(varchar, bigint, bigint, varchar, bigint, bigint, varchar),
    message_store._feed_window(bigint, bigint), message_store._check_condition(varchar), message_store._limit(bigint)
   TO message_store, chronicle_reader;
GRANT EXECUTE ON FUNCTION message_store.write_message(varchar, varchar, varchar, jsonb, jsonb, bigint)
   TO message_store, chronicle_writer;
