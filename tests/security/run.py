"""Least privilege, planted search_path objects, and tenants.

Usage: python run.py DSN

Against a database with the extension, as real login roles (the test cluster
trusts local connections, so each role connects for itself):

  * privileges: PUBLIC gets nothing, in schema chronicle or in
    chronicle_internal (the internal helpers); chronicle_reader reads,
    replays and polls (the deprecated 0.2.0 wrappers are granted like their
    replacements); chronicle_writer also appends, imports and acks;
    chronicle_admin also defines and manages subscriptions. Nobody but the
    owner writes a table: a writer cannot UPDATE or DELETE events, move a
    stream head or forge a snapshot; a superuser is stopped by the guard
    unless it disables the guard on purpose. Every SECURITY DEFINER function
    has SET search_path = pg_catalog, pg_temp.
  * planted objects: functions, operators, a domain and tables that a role
    puts ahead of pg_catalog in its search_path are never called or read by
    Chronicle (each records its calls; the record stays empty).
  * tenants: two tenants and the untenanted rows share one database; each
    sees and writes only its own streams, events and subscriptions through
    every function and view, and cannot choose another tenant.

Prints "RESULT passed=N failed=M"; exits 1 if anything failed.
"""

import json
import pathlib
import subprocess
import sys
import uuid

import psycopg

# check() and finish(), shared by the suites: tests/support/checks.py, found
# from this file's place (so that the suite also runs by hand).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, finish  # noqa: E402

DSN = sys.argv[1]

ROLES = {
    "sec_nobody": [],
    "sec_reader": ["chronicle_reader"],
    "sec_writer": ["chronicle_writer"],
    "sec_admin": ["chronicle_admin"],
    "sec_tenant_a": ["chronicle_admin"],
    "sec_tenant_b": ["chronicle_admin"],
}
TENANTS = {"sec_tenant_a": "a", "sec_tenant_b": "b"}


def connect(role=None, **options):
    dsn = DSN if role is None else f"{DSN} user={role}"
    if options:
        dsn += " options='" + " ".join(f"-c {k}={v}" for k, v in options.items()) + "'"
    return psycopg.connect(dsn, autocommit=True)


def sqlstate(conn, sql, params=None):
    """The SQLSTATE a statement fails with, or "ok"."""
    try:
        with conn.transaction():
            conn.execute(sql, params)
        return "ok"
    except psycopg.Error as e:
        return e.sqlstate


def expect(conn, what, sql, code, params=None):
    got = sqlstate(conn, sql, params)
    check(what, got == code, f"expected {code}, got {got}: {sql}")


def rows(conn, sql, params=None):
    return conn.execute(sql, params).fetchall()


def one(conn, sql, params=None):
    return conn.execute(sql, params).fetchone()[0]


def fresh_export(conn, stream_id):
    """An export of a stream with new event ids, so that it imports again."""
    lines = [r[0] for r in rows(conn, "SELECT * FROM chronicle.export_stream(%s)", [stream_id])]
    events = [json.loads(line) for line in lines[1:]]
    for e in events:
        e["event_id"] = str(uuid.uuid4())
    return "\n".join([lines[0]] + [json.dumps(e) for e in events])


SCHEMAS = "('chronicle'::regnamespace, 'chronicle_internal'::regnamespace)"

# What each role may execute, by signature (schema.name(argument types)):
# chronicle_reader reads, replays and polls, with the internal helpers those
# functions call with its rights; chronicle_writer adds appends, imports and
# acks; chronicle_admin adds the definitions, the subscriptions' lifecycle
# and seal. The deprecated 0.2.0 wrappers are granted exactly like the
# functions they call.
READER_FNS = {
    "chronicle.read_stream(text,bigint,bigint,boolean,boolean)",
    "chronicle.stream_version(text)",
    "chronicle.read_correlation(text)",
    "chronicle.list_streams(text,text,text,integer)",
    "chronicle.list_stream_types()",
    "chronicle.stream_types()",  # deprecated: list_stream_types()
    "chronicle.reducer(text)",
    "chronicle.event_type(text,integer)",
    "chronicle.upcaster(text,integer)",
    "chronicle.export_stream(text,bigint,bigint)",
    "chronicle.read_all(bigint,integer,text,text[])",
    "chronicle.feed_head()",
    "chronicle.poll(text,integer,integer,integer)",
    "chronicle.state_at(text,bigint,timestamp with time zone)",
    "chronicle.state_history(text,bigint,bigint)",
    "chronicle.diff(jsonb,jsonb)",
    "chronicle.canonical_json(jsonb)",
    "chronicle.current_tenant()",
    # the same with the stream (or correlation) id given as a uuid
    "chronicle.read_stream(uuid,bigint,bigint,boolean,boolean)",
    "chronicle.stream_version(uuid)",
    "chronicle.read_correlation(uuid)",
    "chronicle.export_stream(uuid,bigint,bigint)",
    "chronicle.state_at(uuid,bigint,timestamp with time zone)",
    "chronicle.state_history(uuid,bigint,bigint)",
    "chronicle_internal._reference(text,text,text)",
    "chronicle_internal._check_version_range(text,text,bigint,bigint)",
    "chronicle_internal._require(text,text,boolean)",
    "chronicle_internal._check_count(text,text,bigint)",
    "chronicle_internal._not_found(text,text,text,bigint)",
    "chronicle_internal._upcast(text,integer,jsonb)",
    "chronicle_internal._reveal(jsonb,text,uuid,uuid,text[])",
    "chronicle_internal._base_state(text,bigint,jsonb,text,uuid[])",
    "chronicle_internal._export_header(text,bigint,bigint)",
    "chronicle_internal._feed_range(bigint,bigint)",
    "chronicle_internal._delivers(text,text[],integer,integer,text,text,text)",
    "chronicle_internal._consumer_of(text,integer)",
    "chronicle_internal._feed_page(bigint,integer,bigint,text,text[],integer,integer)",
    "chronicle_internal._feed_tick()",
    "chronicle_internal._check_feed_read(bigint,bigint,text,text[])",
    "chronicle_internal._check_poll(text,bigint,bigint,bigint)",
    "chronicle_internal._subscription(text,text,boolean)",
    "chronicle_internal._subscription_error(text,text,boolean)",
    "chronicle_internal._delivers_in(text)",
    "chronicle_internal._scan_end(bigint,bigint)",
    "chronicle_internal._regroup(text,integer)",
    "chronicle_internal._skip(text,integer,bigint,bigint)",
}
WRITER_FNS = READER_FNS | {
    "chronicle.append_event(text,text,jsonb,jsonb,bigint,uuid,text,text,text,text,timestamp with time zone,integer,bigint)",
    "chronicle.append_event(uuid,text,jsonb,jsonb,bigint,uuid,text,text,text,text,timestamp with time zone,integer,bigint)",
    "chronicle.append_events(text,jsonb,bigint,text)",
    "chronicle.append_events(uuid,jsonb,bigint,text)",
    "chronicle.import_stream(text,text,text)",
    "chronicle.ack(text,bigint,integer)",
    "chronicle_internal._import_batches(text,integer,text)",
    "chronicle_internal._import_start(text,text,text)",
}
ADMIN_FNS = WRITER_FNS | {
    "chronicle.define_reducer(text,jsonb)",
    "chronicle.define_event_type(text,integer,jsonb)",
    "chronicle.define_event_type(text,jsonb,integer)",  # deprecated: (event_type, schema_version, definition)
    "chronicle.define_upcaster(text,integer,jsonb)",
    "chronicle.create_subscription(text,text,text[],bigint)",
    "chronicle.drop_subscription(text)",
    "chronicle.pause_subscription(text)",
    "chronicle.resume_subscription(text)",
    "chronicle.fail_subscription(text,text)",
    "chronicle.reset_subscription(text,bigint)",
    "chronicle.seal(integer)",
    "chronicle.seal(bigint)",  # deprecated: seal(max_count int)
    "chronicle.delete_stream(text,bigint,boolean,text)",
    "chronicle.truncate_stream(text,bigint,text)",
    "chronicle.set_retention(text,interval,bigint)",
    "chronicle.apply_retention()",
    "chronicle.archive_stream(text,text)",
    "chronicle.restore_stream(text,text)",
    "chronicle.define_personal_data(text,text,text[])",
    "chronicle.forget_subject(text,text)",
}
# The functions that run as their owner: exactly those that write, each
# with its checks. The deprecated define_event_type(text, jsonb, int) and
# seal(bigint) are plain wrappers that run with their caller's rights.
DEFINERS = {
    "chronicle.append_event(text,text,jsonb,jsonb,bigint,uuid,text,text,text,text,timestamp with time zone,integer,bigint)",
    "chronicle.append_events(text,jsonb,bigint,text)",
    "chronicle.define_reducer(text,jsonb)",
    "chronicle.define_event_type(text,integer,jsonb)",
    "chronicle.define_upcaster(text,integer,jsonb)",
    "chronicle.seal(integer)",
    "chronicle.create_subscription(text,text,text[],bigint)",
    "chronicle.drop_subscription(text)",
    "chronicle.pause_subscription(text)",
    "chronicle.resume_subscription(text)",
    "chronicle.fail_subscription(text,text)",
    "chronicle.reset_subscription(text,bigint)",
    "chronicle.ack(text,bigint,integer)",
    "chronicle.delete_stream(text,bigint,boolean,text)",
    "chronicle.truncate_stream(text,bigint,text)",
    "chronicle.set_retention(text,interval,bigint)",
    "chronicle.apply_retention()",
    "chronicle.archive_stream(text,text)",
    "chronicle.restore_stream(text,text)",
    "chronicle.define_personal_data(text,text,text[])",
    "chronicle.forget_subject(text,text)",
    "chronicle_internal._feed_tick()",
    "chronicle_internal._import_start(text,text,text)",
    "chronicle_internal._regroup(text,integer)",
    "chronicle_internal._skip(text,integer,bigint,bigint)",
}
# A function's signature as the sets above spell it.
SIGNATURE = ("n.nspname || '.' || p.proname || '(' || replace(pg_catalog.oidvectortypes(p.proargtypes), ', ', ',') || ')'")
FUNCTIONS = f"pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.pronamespace IN {SCHEMAS}"


def setup(su):
    su.execute("DROP SCHEMA IF EXISTS evil CASCADE")
    for role in ROLES:
        if one(su, "SELECT count(*) FROM pg_roles WHERE rolname = %s", [role]):
            su.execute(f"DROP OWNED BY {role}")
            su.execute(f"DROP ROLE {role}")
    for role, grants in ROLES.items():
        su.execute(f"CREATE ROLE {role} LOGIN")
        for g in grants:
            su.execute(f"GRANT {g} TO {role}")
    for role, tenant in TENANTS.items():
        su.execute(f"ALTER ROLE {role} SET chronicle.tenant = '{tenant}'")
    db = one(su, "SELECT current_database()")
    su.execute(f"GRANT CREATE ON DATABASE {db} TO sec_admin")


def privileges(su):
    # The catalogue: PUBLIC has nothing, in the public schema or the
    # internal one; the definer functions are exactly the writers, each with
    # a fixed search_path.
    public = rows(su, f"""
        SELECT {SIGNATURE} FROM {FUNCTIONS} AND has_function_privilege('sec_nobody', p.oid, 'EXECUTE')
        UNION ALL
        SELECT c.oid::regclass::text FROM pg_class c
         WHERE c.relnamespace IN {SCHEMAS} AND c.relkind IN ('r', 'v', 'S')
           AND (has_table_privilege('sec_nobody', c.oid, 'SELECT') OR has_table_privilege('sec_nobody', c.oid, 'INSERT'))""")
    check("PUBLIC has no privilege on any function, table or view", public == [], str(public))
    check("PUBLIC cannot use the schema", not one(su, "SELECT has_schema_privilege('sec_nobody', 'chronicle', 'USAGE')"))
    check("PUBLIC cannot use the internal schema",
          not one(su, "SELECT has_schema_privilege('sec_nobody', 'chronicle_internal', 'USAGE')"))
    check("the internal helpers are all in chronicle_internal (none left in chronicle)",
          rows(su, "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'chronicle'::regnamespace "
                   "AND p.proname LIKE '\\_%'") == [])
    definers = {r[0] for r in rows(su, f"SELECT {SIGNATURE} FROM {FUNCTIONS} AND p.prosecdef")}
    check("SECURITY DEFINER exactly on the functions that write (not on the deprecated wrappers)",
          definers == DEFINERS, f"extra {sorted(definers - DEFINERS)}, missing {sorted(DEFINERS - definers)}")
    unpinned = rows(su, f"""
        SELECT {SIGNATURE} FROM {FUNCTIONS} AND p.prosecdef
           AND NOT coalesce(p.proconfig, '{{}}') @> ARRAY['search_path=pg_catalog, pg_temp']""")
    check("every SECURITY DEFINER function sets search_path = pg_catalog, pg_temp", unpinned == [], str(unpinned))
    # The deprecated wrappers run SQL as their callers: they pin theirs too.
    wrappers = rows(su, """
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.oid IN ('chronicle.stream_types()'::regprocedure, 'chronicle.seal(bigint)'::regprocedure,
                         'chronicle.define_event_type(text, jsonb, int)'::regprocedure)
           AND NOT p.prosecdef AND coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp']""")
    check("the three deprecated wrappers run with their callers' rights and a fixed search_path",
          len(wrappers) == 3, str(wrappers))
    # Functions that run SQL but set no search_path: only the inlined SQL
    # helpers (every name in them qualified) and Rust functions without SPI.
    loose = {r[0] for r in rows(su, f"""
        SELECT n.nspname || '.' || p.proname FROM {FUNCTIONS} AND p.proconfig IS NULL""")}
    allowed_loose = {"chronicle." + f for f in ("canonical_json", "diff", "current_tenant")} | {
        "chronicle_internal." + f for f in (
            "_feed_range", "_delivers", "_in_tenant", "_event_id_at", "_matching", "_check_version_range",
            "_require", "_check_count", "_not_found", "_check_feed_read", "_check_subscription", "_check_poll",
            "_check_name", "_subscription_error", "_subscription_next", "_consumer_of", "_delivers_in",
            "_scan_end", "_skip_to", "_ack_to", "_system_identifier", "_import_batches", "_reference",
            "_lifecycle_running",
            # reads the keys as their owner with every name qualified (a
            # SET clause would cost every event read a GUC save and restore)
            "_reveal", "_base_state")}
    check("only inlined helpers and pure functions run without a fixed search_path", loose <= allowed_loose,
          str(sorted(loose - allowed_loose)))
    # What each role may call, exactly; and no role but the owner holds any
    # write privilege on a table or sequence.
    for role, want in (("chronicle_reader", READER_FNS), ("chronicle_writer", WRITER_FNS),
                       ("chronicle_admin", ADMIN_FNS)):
        got = {r[0] for r in rows(su, f"""
            SELECT {SIGNATURE} FROM {FUNCTIONS} AND has_function_privilege(%s, p.oid, 'EXECUTE')""", [role])}
        check(f"{role} may execute exactly its functions", got == want,
              f"extra {sorted(got - want)}, missing {sorted(want - got)}")
        check(f"{role} may use both schemas",
              one(su, "SELECT has_schema_privilege(%s, 'chronicle', 'USAGE') "
                      "AND has_schema_privilege(%s, 'chronicle_internal', 'USAGE')", [role, role]))
        writes = rows(su, f"""
            SELECT c.oid::regclass::text, p FROM pg_class c,
                   unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
             WHERE c.relnamespace IN {SCHEMAS} AND c.relkind IN ('r', 'v', 'p')
               AND has_table_privilege(%s, c.oid, p)
            UNION ALL
            SELECT c.oid::regclass::text, p FROM pg_class c, unnest(ARRAY['USAGE', 'UPDATE']) p
             WHERE c.relnamespace IN {SCHEMAS} AND c.relkind = 'S'
               AND has_sequence_privilege(%s, c.oid, p)""", [role, role])
        check(f"{role} holds no write privilege on any table or sequence", writes == [], str(writes))
        creates = rows(su, "SELECT s FROM unnest(ARRAY['chronicle', 'chronicle_internal']) s "
                           "WHERE has_schema_privilege(%s, s, 'CREATE')", [role])
        check(f"{role} cannot create objects in Chronicle's schemas", creates == [], str(creates))

    su.execute("SELECT chronicle.append_event('sec-1', 'Opened', '{\"n\": 1}', stream_type => 'Sec')")
    su.execute("SELECT chronicle.create_subscription('sec-sub', stream_type => 'Sec')")
    su.execute("SELECT chronicle.seal()")
    # Definitions for the getters to find (of a type of their own, so that
    # they change no state the checks below read).
    su.execute("SELECT chronicle.define_reducer('SecDefs', '{\"on\": {}}')")
    su.execute("SELECT chronicle.define_event_type('SecDefined', 1, '{\"type\": \"object\"}')")
    su.execute("SELECT chronicle.define_upcaster('SecDefined', 1, '[{\"op\": \"rename\", \"path\": \"/a\", \"to\": \"b\"}]')")

    nobody, reader, writer, admin = (connect(r) for r in ("sec_nobody", "sec_reader", "sec_writer", "sec_admin"))
    expect(nobody, "PUBLIC cannot read a stream", "SELECT * FROM chronicle.read_stream('sec-1')", "42501")
    expect(nobody, "PUBLIC cannot append", "SELECT chronicle.append_event('sec-1', 'X', '{}')", "42501")
    expect(nobody, "PUBLIC cannot select events", "SELECT * FROM chronicle.events", "42501")
    for what, sql in [
        ("list_stream_types", "SELECT * FROM chronicle.list_stream_types()"),
        ("stream_types (deprecated)", "SELECT * FROM chronicle.stream_types()"),
        ("reducer", "SELECT * FROM chronicle.reducer('SecDefs')"),
        ("event_type", "SELECT * FROM chronicle.event_type('SecDefined')"),
        ("upcaster", "SELECT * FROM chronicle.upcaster('SecDefined', 1)"),
        ("an internal helper", "SELECT chronicle_internal._require('x', 'y', true)"),
        ("seal(bigint) (deprecated)", "SELECT chronicle.seal(10::bigint)"),
        ("define_event_type (deprecated signature)", "SELECT chronicle.define_event_type('Opened', '{}')"),
    ]:
        expect(nobody, f"PUBLIC cannot call {what}", sql, "42501")

    for what, sql in [
        ("read_stream", "SELECT * FROM chronicle.read_stream('sec-1')"),
        ("state_at", "SELECT chronicle.state_at('sec-1')"),
        ("state_history", "SELECT * FROM chronicle.state_history('sec-1')"),
        ("read_all", "SELECT * FROM chronicle.read_all()"),
        ("poll", "SELECT * FROM chronicle.poll('sec-sub')"),
        ("poll as consumer 1 of 2 (regroups)", "SELECT * FROM chronicle.poll('sec-sub', 10, 1, 2)"),
        ("export_stream", "SELECT * FROM chronicle.export_stream('sec-1')"),
        ("list_streams", "SELECT * FROM chronicle.list_streams()"),
        ("list_stream_types", "SELECT * FROM chronicle.list_stream_types()"),
        ("stream_types (deprecated)", "SELECT * FROM chronicle.stream_types()"),
        ("reducer", "SELECT * FROM chronicle.reducer('SecDefs')"),
        ("event_type", "SELECT * FROM chronicle.event_type('SecDefined')"),
        ("event_type at a schema_version", "SELECT * FROM chronicle.event_type('SecDefined', 1)"),
        ("upcaster", "SELECT * FROM chronicle.upcaster('SecDefined', 1)"),
        ("the events view", "SELECT * FROM chronicle.events"),
        ("the monitoring views", "SELECT * FROM chronicle.daily_activity, chronicle.stream_activity, chronicle.feed_status"),
        ("subscription_lag", "SELECT * FROM chronicle.subscription_lag"),
    ]:
        expect(reader, f"a reader can {what}", sql, "ok")
    check("a reader's state_at is the stream's state", one(reader, "SELECT chronicle.state_at('sec-1')") == {"n": 1})
    check("a reader's getters return the definitions",
          rows(reader, "SELECT (chronicle.reducer('SecDefs')).definition, (chronicle.event_type('SecDefined')).schema_version, "
                       "(chronicle.upcaster('SecDefined', 1)).from_schema_version") == [({"on": {}}, 1, 1)])
    check("a reader's list_stream_types and stream_types (deprecated) agree",
          rows(reader, "SELECT stream_type, streams, events FROM chronicle.list_stream_types()")
          == rows(reader, "SELECT stream_type, streams, events::bigint FROM chronicle.stream_types()")
          and ("Sec", 1, 1) in rows(reader, "SELECT stream_type, streams, events FROM chronicle.list_stream_types()"))
    for what, sql in [
        ("append_event", "SELECT chronicle.append_event('sec-1', 'X', '{}')"),
        ("append_events", "SELECT chronicle.append_events('sec-1', '[{\"event_type\": \"X\", \"data\": {}}]')"),
        ("import_stream", "SELECT chronicle.import_stream('x')"),
        ("ack", "SELECT chronicle.ack('sec-sub', 1)"),
        ("define_reducer", "SELECT chronicle.define_reducer('Sec', '{}')"),
        ("define_event_type", "SELECT chronicle.define_event_type('Opened', 1, '{}')"),
        ("define_event_type (deprecated signature)", "SELECT chronicle.define_event_type('Opened', '{}')"),
        ("define_upcaster", "SELECT chronicle.define_upcaster('Opened', 1, '[]')"),
        ("create_subscription", "SELECT chronicle.create_subscription('r-sub')"),
        ("INSERT into the event log", "INSERT INTO chronicle.event_log (event_id, stream_id, stream_type, version, event_type, data) "
                                      "VALUES (gen_random_uuid(), 'sec-1', 'Sec', 9, 'X', '{}')"),
        ("read the snapshot cache", "SELECT * FROM chronicle.snapshots"),
        ("delete_stream", "SELECT chronicle.delete_stream('sec-1')"),
        ("truncate_stream", "SELECT chronicle.truncate_stream('sec-1', 2)"),
        ("read the lifecycle log", "SELECT * FROM chronicle.lifecycle_log"),
        ("read the retention view", "SELECT * FROM chronicle.retention"),
        ("set_retention", "SELECT chronicle.set_retention('Sec', max_count => 1)"),
        ("apply_retention", "SELECT chronicle.apply_retention()"),
        # an open transaction holding the seal's lock would stop the sealer
        ("seal", "SELECT chronicle.seal()"),
        ("seal(bigint) (deprecated)", "SELECT chronicle.seal(10::bigint)"),
        ("set chronicle.snapshot_every (the cache is written as its owner)", "SET chronicle.snapshot_every = 1"),
    ]:
        expect(reader, f"a reader cannot {what}", sql, "42501")

    expect(writer, "a writer can append_event", "SELECT chronicle.append_event('sec-1', 'Added', '{\"n\": 2}')", "ok")
    expect(writer, "a writer can append_events", "SELECT chronicle.append_events('sec-2', '[{\"event_type\": \"Opened\", \"data\": {}}]', stream_type => 'Sec')", "ok")
    expect(writer, "a writer can ack", "SELECT chronicle.ack('sec-sub', 1)", "ok")
    expect(writer, "a writer can import_stream", "SELECT chronicle.import_stream(%s, 'sec-copy')", "ok",
           [fresh_export(writer, "sec-1")])
    before = rows(su, "SELECT stream_id, version, data FROM chronicle.event_log ORDER BY id")
    heads = rows(su, "SELECT stream_id, version FROM chronicle.streams ORDER BY 1")
    for what, sql in [
        ("UPDATE an event", "UPDATE chronicle.event_log SET data = '{\"n\": 666}'"),
        ("DELETE an event", "DELETE FROM chronicle.event_log"),
        ("TRUNCATE the log", "TRUNCATE chronicle.event_log"),
        ("move a stream head", "UPDATE chronicle.streams SET version = 1 WHERE stream_id = 'sec-1'"),
        ("delete a stream head", "DELETE FROM chronicle.streams"),
        ("write the feed", "UPDATE chronicle.feed SET first_position = first_position + 1"),
        ("forge a snapshot", "INSERT INTO chronicle.snapshots (stream_id, version, stream_type, reducer_revision, "
                             "upcasters_fingerprint, state) VALUES ('sec-1', 1, 'Sec', 0, 0, '{\"forged\": true}')"),
        ("move a checkpoint directly", "UPDATE chronicle.subscriptions SET last_position = 1000"),
        ("call the internal checkpoint mover",
         "SELECT chronicle_internal._move_checkpoint(s, 0, 2, 0) FROM chronicle.subscriptions s WHERE name = 'sec-sub'"),
        ("call the internal state machine",
         "SELECT chronicle_internal._transition(s, 'reset', 0) FROM chronicle.subscriptions s WHERE name = 'sec-sub'"),
        ("define_reducer", "SELECT chronicle.define_reducer('Sec', '{}')"),
        ("define_event_type", "SELECT chronicle.define_event_type('Opened', 1, '{}')"),
        ("define_event_type (deprecated signature)", "SELECT chronicle.define_event_type('Opened', '{}')"),
        ("define_upcaster", "SELECT chronicle.define_upcaster('Opened', 1, '[]')"),
        ("drop_subscription", "SELECT chronicle.drop_subscription('sec-sub')"),
        ("fail_subscription", "SELECT chronicle.fail_subscription('sec-sub', error_message => 'x')"),
        ("seal", "SELECT chronicle.seal()"),
        ("seal(bigint) (deprecated)", "SELECT chronicle.seal(10::bigint)"),
        ("delete_stream", "SELECT chronicle.delete_stream('sec-1')"),
        ("delete_stream for good", "SELECT chronicle.delete_stream('sec-1', hard => true)"),
        ("truncate_stream", "SELECT chronicle.truncate_stream('sec-1', 2)"),
        ("read the lifecycle log", "SELECT * FROM chronicle.lifecycle_log"),
        ("remove a stream's base", "DELETE FROM chronicle.stream_bases"),
        ("forge a lifecycle record", "INSERT INTO chronicle.lifecycle_log (operation, stream_id, stream_type, "
                                     "from_version, to_version, events, performed_by) VALUES ('delete', 'x', 'X', 1, 1, 1, 'x')"),
        ("call the guard's switch", "SELECT chronicle_internal._lifecycle_running()"),
        ("set_retention", "SELECT chronicle.set_retention('Sec', max_count => 1)"),
        ("apply_retention", "SELECT chronicle.apply_retention()"),
        ("archive_stream", "SELECT chronicle.archive_stream('sec-1')"),
        ("restore_stream", "SELECT chronicle.restore_stream('sec-1')"),
        ("move events to the archive", "INSERT INTO chronicle.event_archive SELECT * FROM chronicle.event_log"),
        ("write a retention rule", "INSERT INTO chronicle.retention_rules VALUES ('Sec', NULL, 1, now())"),
    ]:
        expect(writer, f"a writer cannot {what}", sql, "42501")
    check("the writer's attempts changed no event", rows(su, "SELECT stream_id, version, data FROM chronicle.event_log ORDER BY id") == before)
    check("the writer's attempts moved no stream head", rows(su, "SELECT stream_id, version FROM chronicle.streams ORDER BY 1") == heads)
    # _skip runs as the owner, but only ever skips what poll would skip.
    su.execute("SELECT chronicle.seal()")
    head = one(su, "SELECT chronicle.feed_head()")

    def pending(k):
        """Consumer k of sec-sub's group: its checkpoint, and the events after it that are for it."""
        cp = one(su, "SELECT position FROM chronicle.subscription_consumers WHERE subscription = 'sec-sub' "
                     "AND consumer = %s", [k])
        n = one(su, """SELECT count(*) FROM chronicle.read_all(%s) v
                        WHERE chronicle_internal._delivers('Sec', NULL, %s, 2, v.stream_type, v.event_type, v.stream_id)""",
                [cp, k])
        return cp, n

    k = max((0, 1), key=lambda k: pending(k)[1])
    cp, undelivered = pending(k)
    reader.execute("SELECT chronicle_internal._skip('sec-sub', %s, %s, %s)", [k, cp, head])
    check(f"calling _skip past events not yet delivered ({undelivered}) moves no checkpoint",
          undelivered > 0 and pending(k)[0] == cp)
    # ... while it does move past positions that hold nothing for it.
    su.execute("SELECT chronicle.create_subscription('sec-nothing', stream_type => 'NoSuchType')")
    reader.execute("SELECT chronicle_internal._skip('sec-nothing', 0, 0, %s)", [head])
    check("_skip moves a checkpoint past positions with nothing for it",
          one(su, "SELECT last_position FROM chronicle.subscriptions WHERE name = 'sec-nothing'") == head)
    # ... but never beyond the head, nor for a group poll would not form.
    expect(reader, "calling _skip to a position beyond the head is refused",
           f"SELECT chronicle_internal._skip('sec-nothing', 0, {head}, {head + 10})", "22023")
    check("... and moves no checkpoint",
          one(su, "SELECT last_position FROM chronicle.subscriptions WHERE name = 'sec-nothing'") == head)
    groups = rows(su, "SELECT consumers FROM chronicle.subscriptions WHERE name = 'sec-sub'")
    expect(reader, "calling _regroup with a group of 0 consumers is refused",
           "SELECT chronicle_internal._regroup('sec-sub', 0)", "22023")
    check("... and changes no group", rows(su, "SELECT consumers FROM chronicle.subscriptions WHERE name = 'sec-sub'") == groups)

    for what, sql in [
        ("define_reducer", "SELECT chronicle.define_reducer('Sec', '{\"on\": {\"Added\": [{\"op\": \"set\", \"path\": \"/n\", \"from\": \"/data/n\"}]}}')"),
        ("define_event_type", "SELECT chronicle.define_event_type('Opened', 1, '{\"type\": \"object\"}')"),
        ("define_event_type (deprecated signature)", "SELECT chronicle.define_event_type('Opened', '{\"type\": \"object\"}')"),
        ("define_upcaster", "SELECT chronicle.define_upcaster('Opened', 1, '[{\"op\": \"rename\", \"path\": \"/n\", \"to\": \"m\"}]')"),
        ("create_subscription", "SELECT chronicle.create_subscription('admin-sub', after_position => 0)"),
        ("pause_subscription", "SELECT chronicle.pause_subscription('admin-sub')"),
        ("resume_subscription", "SELECT chronicle.resume_subscription('admin-sub')"),
        ("fail_subscription", "SELECT chronicle.fail_subscription('admin-sub', error_message => 'boom')"),
        ("reset_subscription", "SELECT chronicle.reset_subscription('admin-sub', to_position => 0)"),
        ("drop_subscription", "SELECT chronicle.drop_subscription('admin-sub')"),
        ("seal", "SELECT chronicle.seal()"),
        ("seal(bigint) (deprecated)", "SELECT chronicle.seal(10::bigint)"),
    ]:
        expect(admin, f"an admin can {what}", sql, "ok")
    expect(admin, "an admin cannot UPDATE an event", "UPDATE chronicle.event_log SET data = '{}'", "42501")

    # The owner (a superuser) meets the guard; only disabling it on purpose
    # lets a change through (rolled back here).
    expect(su, "a superuser's UPDATE meets the append-only guard", "UPDATE chronicle.event_log SET data = '{}'", "55000")
    with su.transaction():
        su.execute("ALTER TABLE chronicle.event_log DISABLE TRIGGER event_log_append_only")
        n = su.execute("UPDATE chronicle.event_log SET data = '{}' WHERE stream_id = 'sec-1'").rowcount
        check("a superuser who disables the guard on purpose can change history", n >= 1)
        raise_rollback(su)
    check("and without committing, nothing changed", rows(su, "SELECT stream_id, version, data FROM chronicle.event_log ORDER BY id") == before)
    for c in (nobody, reader, writer, admin):
        c.close()


def raise_rollback(conn):
    raise psycopg.Rollback()


# Objects a role plants ahead of pg_catalog: each records that it was called.
PLANT = """
CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text, by_role text);
GRANT ALL ON SCHEMA evil TO PUBLIC;
GRANT ALL ON evil.calls TO PUBLIC;
CREATE FUNCTION evil.spy(what text) RETURNS boolean LANGUAGE sql VOLATILE
    AS $$ INSERT INTO evil.calls VALUES (what, current_user) RETURNING true $$;
CREATE FUNCTION evil.eq_text(a text, b text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.spy('=(text)') AND a::pg_catalog.text OPERATOR(pg_catalog.=) b $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.eq_text);
CREATE FUNCTION evil.eq_bigint(a bigint, b bigint) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.spy('=(bigint)') AND a OPERATOR(pg_catalog.=) b $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq_bigint);
CREATE FUNCTION evil.eq_uuid(a uuid, b uuid) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.spy('=(uuid)') AND a OPERATOR(pg_catalog.=) b $$;
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.eq_uuid);
CREATE FUNCTION evil.arrow(a jsonb, b text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.spy('->>') THEN a OPERATOR(pg_catalog.->>) b END $$;
CREATE OPERATOR evil.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.arrow);
CREATE FUNCTION evil.plus(a bigint, b bigint) RETURNS bigint LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.spy('+') THEN a OPERATOR(pg_catalog.+) b END $$;
CREATE OPERATOR evil.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.plus);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.spy('now') THEN pg_catalog.now() END $$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.spy('jsonb_typeof') THEN pg_catalog.jsonb_typeof($1) END $$;
CREATE FUNCTION evil.gen_random_uuid() RETURNS uuid LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.spy('gen_random_uuid') THEN pg_catalog.gen_random_uuid() END $$;
CREATE FUNCTION evil.pg_current_xact_id() RETURNS xid8 LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.spy('pg_current_xact_id') THEN pg_catalog.pg_current_xact_id() END $$;
CREATE FUNCTION evil.jsonb_array_elements(jsonb) RETURNS SETOF jsonb LANGUAGE sql
    AS $$ SELECT x FROM pg_catalog.jsonb_array_elements($1) x WHERE evil.spy('jsonb_array_elements') $$;
CREATE FUNCTION evil.current_setting(text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.spy('current_setting') THEN pg_catalog.current_setting($1) END $$;
CREATE FUNCTION evil.coalesce_check(pg_catalog.uuid) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.spy('domain uuid') $$;
CREATE DOMAIN evil.uuid AS pg_catalog.uuid CHECK (evil.coalesce_check(VALUE));
CREATE DOMAIN evil.jsonb AS pg_catalog.jsonb CHECK (evil.spy('domain jsonb'));
CREATE TABLE evil.streams (stream_id text, version bigint);
CREATE TABLE evil.events (stream_id text);
CREATE TABLE evil.event_log (stream_id text);
"""


def planted(su):
    admin = connect("sec_admin")
    admin.execute(PLANT)
    admin.execute("SET search_path = evil, pg_catalog, chronicle, public")
    head = one(su, "SELECT chronicle.feed_head()")
    for what, sql in [
        ("define_reducer", "SELECT chronicle.define_reducer('Trap', '{\"on\": {\"Set\": [{\"op\": \"set\", \"path\": \"/v\", \"from\": \"/data/v\"}]}}')"),
        ("define_event_type", "SELECT chronicle.define_event_type('Set', 1, '{\"type\": \"object\"}')"),
        ("define_event_type (deprecated signature)",
         "SELECT chronicle.define_event_type('Set', '{\"type\": \"object\"}', schema_version => 1)"),
        ("define_upcaster", "SELECT chronicle.define_upcaster('Set', 1, definition => '[{\"op\": \"rename\", \"path\": \"/w\", \"to\": \"v\"}]')"),
        ("append_event", "SELECT chronicle.append_event('trap-1', 'Set', '{\"v\": 1}', stream_type => 'Trap', "
                         "event_id => 'c0000000-0000-4000-8000-000000000001', correlation_id => 'c0000000-0000-4000-8000-00000000000c')"),
        ("append_event retried", "SELECT chronicle.append_event('trap-1', 'Set', '{\"v\": 1}', stream_type => 'Trap', "
                                 "event_id => 'c0000000-0000-4000-8000-000000000001')"),
        ("append_events", "SELECT chronicle.append_events('trap-1', '[{\"event_type\": \"Set\", \"data\": {\"v\": 2}, "
                          "\"event_id\": \"c0000000-0000-4000-8000-000000000002\"}]', expected_version => 1)"),
        ("read_stream", "SELECT * FROM chronicle.read_stream('trap-1', upcast => true)"),
        ("stream_version", "SELECT chronicle.stream_version('trap-1')"),
        ("read_correlation", "SELECT * FROM chronicle.read_correlation('c0000000-0000-4000-8000-00000000000c')"),
        ("list_streams", "SELECT * FROM chronicle.list_streams(id_prefix => 'trap')"),
        ("list_stream_types", "SELECT * FROM chronicle.list_stream_types()"),
        ("stream_types (deprecated)", "SELECT * FROM chronicle.stream_types()"),
        ("reducer", "SELECT * FROM chronicle.reducer('Trap')"),
        ("event_type", "SELECT * FROM chronicle.event_type('Set', schema_version => 1)"),
        ("upcaster", "SELECT * FROM chronicle.upcaster('Set', 1)"),
        ("export_stream", "SELECT * FROM chronicle.export_stream('trap-1', 1, to_version => 2)"),
        ("state_at", "SELECT chronicle.state_at('trap-1')"),
        ("state_at a version", "SELECT chronicle.state_at('trap-1', to_version => 1)"),
        ("state_at as of now", "SELECT chronicle.state_at('trap-1', as_of => pg_catalog.now())"),
        ("state_history", "SELECT * FROM chronicle.state_history('trap-1', 1, to_version => 2)"),
        ("seal", "SELECT chronicle.seal()"),
        ("seal(max_count)", "SELECT chronicle.seal(max_count => 10)"),
        ("seal(bigint) (deprecated)", "SELECT chronicle.seal(10::bigint)"),
        ("create_subscription", f"SELECT chronicle.create_subscription('trap-sub', 'Trap', after_position => {head})"),
        ("read_all", f"SELECT * FROM chronicle.read_all({head}, 10, 'Trap')"),
        ("poll", "SELECT * FROM chronicle.poll('trap-sub', 1)"),
        ("poll regrouping", "SELECT * FROM chronicle.poll('trap-sub', 10, 0, 2)"),
        ("poll with NULL for its defaults", "SELECT * FROM chronicle.poll('trap-sub', NULL, NULL, NULL)"),
        ("ack", "SELECT chronicle.ack('trap-sub', to_position => chronicle.feed_head())"),
        ("pause and resume", "SELECT chronicle.pause_subscription('trap-sub'), chronicle.resume_subscription('trap-sub')"),
        ("fail and resume", "SELECT chronicle.fail_subscription('trap-sub', error_message => 'boom'), "
                            "chronicle.resume_subscription('trap-sub')"),
        ("reset_subscription", "SELECT chronicle.reset_subscription('trap-sub', to_position => 0)"),
        ("the views", "SELECT * FROM chronicle.events, chronicle.subscription_lag, chronicle.feed_status LIMIT 1"),
    ]:
        expect(admin, f"with planted objects first in search_path, {what} works", sql, "ok")
    expect(admin, "with planted objects, import_stream works", "SELECT chronicle.import_stream(%s, 'trap-2')", "ok",
           [fresh_export(admin, "trap-1")])
    expect(admin, "with planted objects, drop_subscription works", "SELECT chronicle.drop_subscription('trap-sub')", "ok")
    calls = rows(su, "SELECT what, by_role FROM evil.calls")
    check("Chronicle called none of the planted functions, operators or domains", calls == [], str(calls[:10]))
    check("the planted search path changed no answer", one(su, "SELECT chronicle.state_at('trap-1')") == {"v": 2})
    # The planted objects do work when the role itself calls them: the test
    # would notice if they could not fire.
    one(admin, "SELECT 'a'::text = 'a'::text")
    check("the planted operator fires for the role's own queries", one(su, "SELECT count(*) FROM evil.calls") > 0)
    admin.close()


def tenants(su):
    a, b = connect("sec_tenant_a"), connect("sec_tenant_b")
    corr = str(uuid.uuid4())
    ev_b = str(uuid.uuid4())
    su.execute("SELECT chronicle.seal()")  # everything before is sealed: head0 is where this part starts
    head0 = one(su, "SELECT chronicle.feed_head()")
    check("tenant a's session has tenant a", one(a, "SELECT chronicle.current_tenant()") == "a")
    su.execute("SELECT chronicle.append_event('shared-0', 'Opened', '{}', stream_type => 'Acct')")
    for i in range(3):
        a.execute("SELECT chronicle.append_event(%s, 'Opened', %s, stream_type => 'Acct', correlation_id => %s)",
                  [f"a-{i}", json.dumps({"owner": "a", "i": i}), corr])
        b.execute("SELECT chronicle.append_event(%s, 'Opened', %s, stream_type => 'Ledger', correlation_id => %s, event_id => %s)",
                  [f"b-{i}", json.dumps({"owner": "b", "i": i}), corr, ev_b if i == 0 else str(uuid.uuid4())])
    a.execute("SELECT chronicle.create_subscription('a-sub', after_position => %s)", [head0])
    b.execute("SELECT chronicle.create_subscription('b-sub', after_position => %s)", [head0])
    su.execute("SELECT chronicle.seal()")

    def owners(conn, sql):
        return {r[0] for r in rows(conn, sql)}

    for who, conn, mine in (("a", a, "a"), ("b", b, "b")):
        prefix = f"tenant {who} sees only its own"
        check(f"{prefix} streams (list_streams)", owners(conn, "SELECT left(stream_id, 2) FROM chronicle.list_streams()") == {f"{mine}-"})
        check(f"{prefix} stream types (list_stream_types)",
              rows(conn, "SELECT stream_type, streams, events FROM chronicle.list_stream_types()")
              == [("Acct" if mine == "a" else "Ledger", 3, 3)])
        check(f"{prefix} stream types (stream_types, deprecated)",
              owners(conn, "SELECT stream_type FROM chronicle.stream_types()") == {"Acct" if mine == "a" else "Ledger"})
        check(f"{prefix} events (the events view)", owners(conn, "SELECT data->>'owner' FROM chronicle.events") == {mine})
        check(f"{prefix} events (read_all)", owners(conn, f"SELECT data->>'owner' FROM chronicle.read_all({head0})") == {mine})
        check(f"{prefix} events (read_correlation)", owners(conn, f"SELECT data->>'owner' FROM chronicle.read_correlation('{corr}')") == {mine})
        check(f"{prefix} events (poll)", owners(conn, f"SELECT data->>'owner' FROM chronicle.poll('{mine}-sub', 100)") == {mine})
        check(f"{prefix} stream_activity", owners(conn, "SELECT left(stream_id, 2) FROM chronicle.stream_activity") == {f"{mine}-"})
        check(f"{prefix} subscriptions (subscription_lag)", owners(conn, "SELECT name FROM chronicle.subscription_lag") == {f"{mine}-sub"})
        check(f"{prefix} consumers", owners(conn, "SELECT subscription FROM chronicle.subscription_consumers") == {f"{mine}-sub"})
        check(f"{prefix} daily_activity counts", one(conn, "SELECT sum(events) FROM chronicle.daily_activity") == 3)
        other = "b" if mine == "a" else "a"
        check(f"tenant {who}: another tenant's stream reads as absent",
              rows(conn, f"SELECT * FROM chronicle.read_stream('{other}-0')") == []
              and one(conn, f"SELECT chronicle.stream_version('{other}-0')") == 0
              and rows(conn, f"SELECT * FROM chronicle.state_history('{other}-0')") == [])
        expect(conn, f"tenant {who}: export of another tenant's stream is 42704", f"SELECT chronicle.export_stream('{other}-0')", "42704")
        # state_at of a stream that does not exist is 42704: another
        # tenant's is told apart from it in nothing but its name.
        for stream_id in (f"{other}-0", f"{other}-9"):
            try:
                conn.execute("SELECT chronicle.state_at(%s)", [stream_id])
                check(f"tenant {who}: state_at of {stream_id} is 42704", False, "it returned a state")
            except psycopg.Error as e:
                check(f"tenant {who}: state_at of {stream_id} ({'another tenant' if stream_id.endswith('-0') else 'missing'}) "
                      "is 42704 'no stream has stream_id'",
                      e.sqlstate == "42704" and e.diag.message_primary == f'no stream has stream_id "{stream_id}"',
                      f"{e.sqlstate}: {e.diag.message_primary}")
        for fn in (f"SELECT * FROM chronicle.poll('{other}-sub')", f"SELECT chronicle.ack('{other}-sub', 1)",
                   f"SELECT chronicle.pause_subscription('{other}-sub')", f"SELECT chronicle.drop_subscription('{other}-sub')",
                   f"SELECT chronicle.resume_subscription('{other}-sub')",
                   f"SELECT chronicle.fail_subscription('{other}-sub', error_message => 'x')",
                   f"SELECT chronicle.reset_subscription('{other}-sub')"):
            expect(conn, f"tenant {who}: another tenant's subscription does not exist: {fn.split('chronicle.')[1].split('(')[0]}",
                   fn, "42704")
        expect(conn, f"tenant {who}: appending to another tenant's stream is 42501",
               f"SELECT chronicle.append_event('{other}-0', 'Hijack', '{{}}')", "42501")
        expect(conn, f"tenant {who}: append_events to another tenant's stream is 42501",
               f"SELECT chronicle.append_events('{other}-0', '[{{\"event_type\": \"Hijack\", \"data\": {{}}}}]')", "42501")
        # With an expected version the stream is judged as it appears: absent.
        expect(conn, f"tenant {who}: expecting a version of another tenant's stream is 40001",
               f"SELECT chronicle.append_events('{other}-0', '[{{\"event_type\": \"Hijack\", \"data\": {{}}}}]', expected_version => 1)", "40001")
        expect(conn, f"tenant {who}: it cannot choose another tenant", f"SET chronicle.tenant = '{other}'", "42501")
        for fn in ("SELECT chronicle.define_reducer('Ledger', '{}')",
                   "SELECT chronicle.define_event_type('Opened', 1, '{\"type\": \"object\"}')",
                   "SELECT chronicle.define_event_type('Opened', '{\"type\": \"object\"}')",
                   "SELECT chronicle.define_upcaster('Opened', 1, '[{\"op\": \"rename\", \"path\": \"/a\", \"to\": \"b\"}]')"):
            expect(conn, f"tenant {who}: definitions, shared by every tenant, are not its to change: {fn[17:49]}",
                   fn, "42501")
        expect(conn, f"tenant {who}: the untenanted stream is not its own", "SELECT chronicle.append_event('shared-0', 'Hijack', '{}')", "42501")
    # Another tenant's event_id is a duplicate whatever the content: the answer
    # tells neither its stream nor whether a guess at its content was right.
    for what, data in (("its exact content", {"owner": "b", "i": 0}), ("other content", {"owner": "x"})):
        try:
            a.execute("SELECT chronicle.append_event('a-9', 'Opened', %s, event_id => %s)", [json.dumps(data), ev_b])
            check(f"reusing another tenant's event_id with {what} is refused", False)
        except psycopg.Error as e:
            text = f"{e} {e.diag.message_detail}"
            # Errors name a stream in quotes; the bare text "b-0" can be part
            # of the event_id the message names (5c5ef25b-0882-...).
            check(f"reusing another tenant's event_id with {what} is 23505, naming no stream",
                  e.sqlstate == "23505" and '"b-0"' not in text and "another tenant" in text,
                  f"{text} [{e.sqlstate}]")

    check("no Hijack event was stored", one(su, "SELECT count(*) FROM chronicle.event_log WHERE event_type = 'Hijack'") == 0)
    check("tenant b's streams are unchanged", one(su, "SELECT count(*) FROM chronicle.event_log WHERE tenant = 'b'") == 3)
    check("every row carries its tenant",
          rows(su, "SELECT tenant, count(*) FROM chronicle.event_log WHERE stream_id ~ '^(a|b|shared)-' GROUP BY 1 ORDER BY 1")
          == [("", 1), ("a", 3), ("b", 3)])
    check("a superuser sees every tenant", one(su, f"SELECT count(*) FROM chronicle.read_all({head0})") == 7)
    # A placeholder set before the library is loaded (as a startup option, or
    # SET in a fresh session) is refused when the policies load it.
    # The session then has no tenant at all: every read of a tenant table
    # fails with 42501 (falling back to the rows of no tenant would leak them).
    spoof = connect("sec_tenant_a", **{"chronicle.tenant": "b"})
    expect(spoof, "a startup option cannot choose another tenant", "SELECT * FROM chronicle.events", "42501")
    expect(spoof, "... nor fall back to the rows of no tenant", "SELECT * FROM chronicle.list_streams()", "42501")
    spoof.close()
    spoof = connect("sec_tenant_a")
    spoof.execute("SET chronicle.tenant = 'b'")
    expect(spoof, "a SET before the library is loaded cannot choose another tenant", "SELECT * FROM chronicle.events", "42501")
    spoof.close()
    untenanted = connect("sec_writer")
    check("a role without a tenant sees only the rows of no tenant",
          owners(untenanted, "SELECT stream_id FROM chronicle.list_streams() WHERE stream_id ~ '^(a|b|shared)-'") == {"shared-0"})
    untenanted.close()
    # The feed stays one: each tenant's positions are increasing parts of it.
    pa = [r[0] for r in rows(a, f"SELECT global_position FROM chronicle.read_all({head0})")]
    pb = [r[0] for r in rows(b, f"SELECT global_position FROM chronicle.read_all({head0})")]
    check("the tenants' positions interleave in one dense feed",
          sorted(pa + pb) == list(range(head0 + 2, head0 + 8)) and pa == sorted(pa), f"{pa} {pb}")
    page = [r[0] for r in rows(a, f"SELECT global_position FROM chronicle.read_all({head0}, 2)")]
    check("a page of a tenant's feed skips the hidden positions and is full", page == pa[:2], f"{page} {pa}")
    # The lifecycle: an operator of one tenant never touches another's
    # streams; each tenant's lifecycle log holds its own operations only.
    for who, conn, other in (("a", a, "b"), ("b", b, "a")):
        for fn in ("delete_stream('{s}')", "delete_stream('{s}', hard => true)", "truncate_stream('{s}', 2)"):
            expect(conn, f"tenant {who}: {fn.split(',')[0].split(')')[0]}) of another tenant's stream is 42704",
                   "SELECT chronicle." + fn.format(s=f"{other}-1"), "42704")
        expect(conn, f"tenant {who}: delete_stream of the untenanted stream is 42704",
               "SELECT chronicle.delete_stream('shared-0')", "42704")
    a.execute("SELECT chronicle.append_event('a-9', 'Opened', '{\"v\": 1}', stream_type => 'Acct')")
    a.execute("SELECT chronicle.append_event('a-9', 'Changed', '{\"v\": 2}')")
    check("tenant a truncates its own stream", one(a, "SELECT chronicle.truncate_stream('a-9', 2, 'tenant test')") == 1)
    check("tenant a's lifecycle log holds its operation, tenant b's nothing",
          rows(a, "SELECT operation, stream_id, events FROM chronicle.lifecycle_log") == [("truncate", "a-9", 1)]
          and rows(b, "SELECT * FROM chronicle.lifecycle_log") == [])
    check("tenant b's base states hold none of tenant a's", rows(b, "SELECT * FROM chronicle.stream_bases") == [])
    for who, conn, other in (("a", a, "b"), ("b", b, "a")):
        for fn in ("archive_stream", "restore_stream"):
            expect(conn, f"tenant {who}: {fn} of another tenant's stream is 42704",
                   f"SELECT chronicle.{fn}('{other}-2')", "42704")
    check("tenant a archives its own stream", one(a, "SELECT chronicle.archive_stream('a-2')") == 1)
    check("tenant b sees none of tenant a's archive",
          rows(b, "SELECT * FROM chronicle.archived_events") == []
          and rows(b, "SELECT * FROM chronicle.read_stream('a-2', include_archived => true)") == [])
    check("tenant a reads its archived stream",
          len(rows(a, "SELECT * FROM chronicle.read_stream('a-2', include_archived => true)")) == 1)
    check("tenant a restores it", one(a, "SELECT chronicle.restore_stream('a-2')") == 1)
    check("tenant a's truncated stream answers from its base", one(a, "SELECT chronicle.state_at('a-9')") == {"v": 2})
    # Retention rules are shared definitions: a tenant cannot set one; an
    # operator's rule applies to every tenant's streams of the type, and a
    # tenant's apply_retention() cuts only its own.
    expect(a, "tenant a: set_retention is a shared definition (42501)",
           "SELECT chronicle.set_retention('Ledger', max_count => 1)", "42501")
    su.execute("SELECT chronicle.set_retention('Ledger', max_count => 1)")
    b.execute("SELECT chronicle.append_event('b-1', 'Changed', '{}')")
    check("tenant a's apply_retention cuts none of tenant b's streams", one(a, "SELECT chronicle.apply_retention()") == 0
          and one(su, "SELECT first_version FROM chronicle.streams WHERE stream_id = 'b-1'") == 1)
    check("tenant b's apply_retention cuts its own", one(b, "SELECT chronicle.apply_retention()") == 1
          and one(su, "SELECT first_version FROM chronicle.streams WHERE stream_id = 'b-1'") == 2)
    su.execute("SELECT chronicle.set_retention('Ledger')")
    a.close()
    b.close()


def files_holding(paths, needle):
    """The files among `paths` whose bytes contain `needle`."""
    found = []
    for path in paths:
        try:
            if needle in pathlib.Path(path).read_bytes():
                found.append(str(path))
        except FileNotFoundError:  # a segment recycled meanwhile
            pass
    return found


def personal(su):
    """Personal data: no plaintext of a personal member in the log, its
    indexes, heap files, WAL or pg_dump output; the keys readable by the
    owner only; a tenant's subjects keyed within the tenant."""
    secret = f"pd-{uuid.uuid4().hex}@example.org"
    secret_ip = f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().hex[:6]}"
    # A value stored as written beside them: the searches below find it,
    # so that not finding the secrets means something.
    control = f"np-{uuid.uuid4().hex}"
    wal_start = one(su, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
    su.execute("SELECT chronicle.define_personal_data('SecPersonal', '/subject', '{/email,/metadata/ip}')")
    for v in range(1, 121):  # past chronicle.snapshot_every: state_at would cache a state
        su.execute("SELECT chronicle.append_event('sec-pd-1', 'SecPersonal', %s::jsonb, %s::jsonb)",
                   [json.dumps({"subject": "sec-s-1", "email": secret, "note": control, "n": v}),
                    json.dumps({"ip": secret_ip})])
    # A stream truncated behind a base folded from the subject's members.
    for v in range(1, 4):
        su.execute("SELECT chronicle.append_event('sec-pd-2', 'SecPersonal', %s::jsonb)",
                   [json.dumps({"subject": "sec-s-1", "email": secret, "n": v})])
    su.execute("SELECT chronicle.seal()")
    su.execute("SELECT chronicle.truncate_stream('sec-pd-2', 3)")
    with connect("sec_reader") as reader:
        state = one(reader, "SELECT chronicle.state_at('sec-pd-2', 2)")
        check("a truncated stream's base opens for a reader", state.get("email") == secret, str(state))
        got = rows(reader, "SELECT data ->> 'email', metadata ->> 'ip' FROM chronicle.read_stream('sec-pd-1', 120)")
        check("a reader reads a personal member opened, exactly", got == [(secret, secret_ip)], str(got))
        state = one(reader, "SELECT chronicle.state_at('sec-pd-1')")
        check("state_at folds the opened members", state["email"] == secret, str(state))
    for role in ("sec_nobody", "sec_reader", "sec_writer", "sec_admin", "sec_tenant_a"):
        with connect(role) as c:
            expect(c, f"{role} cannot read the keys", "SELECT key FROM chronicle_internal.subject_keys", "42501")
            expect(c, f"{role} cannot change the keys", "DELETE FROM chronicle_internal.subject_keys", "42501")
    grants = rows(su, """SELECT r, p FROM unnest(ARRAY['chronicle_reader', 'chronicle_writer', 'chronicle_admin']) r,
                                unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES']) p
                          WHERE has_table_privilege(r, 'chronicle_internal.subject_keys', p)""")
    check("no Chronicle role holds any privilege on the keys", grants == [], str(grants))
    with connect("sec_writer") as writer:
        expect(writer, "a writer cannot define personal data",
               "SELECT chronicle.define_personal_data('X', '/id', '{/a}')", "42501")
        expect(writer, "a writer cannot forget a subject", "SELECT chronicle.forget_subject('sec-s-1')", "42501")
    cached = one(su, "SELECT count(*) FROM chronicle.snapshots WHERE stream_id = 'sec-pd-1'")
    check("no state folded from personal members is cached", cached == 0, str(cached))

    # What a superuser finds without Chronicle's functions: the sealed form.
    stored = one(su, "SELECT count(*) FROM chronicle.event_log WHERE stream_id = 'sec-pd-1' "
                     "AND (data::text LIKE %s OR metadata::text LIKE %s)", [f"%{secret}%", f"%{secret_ip}%"])
    check("the log read directly holds no plaintext of a personal member", stored == 0, str(stored))
    bindir = one(su, "SELECT setting FROM pg_config WHERE name = 'BINDIR'")
    info = psycopg.conninfo.conninfo_to_dict(DSN)
    command = [f"{bindir}/pg_dump", "-d", one(su, "SELECT current_database()")]
    for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if info.get(key):
            command += [flag, str(info[key])]
    dump = subprocess.run(command, check=True, capture_output=True).stdout
    check("pg_dump output holds the control value (the search works)", control.encode() in dump)
    check("pg_dump output holds no plaintext of a personal member",
          secret.encode() not in dump and secret_ip.encode() not in dump)
    check("pg_dump output holds the keys (a dump must be kept like a key)",
          b"COPY chronicle_internal.subject_keys" in dump)
    su.execute("CHECKPOINT")
    datadir = pathlib.Path(one(su, "SHOW data_directory"))
    relations = rows(su, """
        SELECT pg_relation_filepath(c.oid) FROM pg_class c
         WHERE c.relnamespace IN ('chronicle'::regnamespace, 'chronicle_internal'::regnamespace)
           AND c.relkind IN ('r', 'i', 't', 'm')
        UNION
        SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c
         WHERE c.relnamespace IN ('chronicle'::regnamespace, 'chronicle_internal'::regnamespace)
           AND c.reltoastrelid <> 0""")
    heap = [datadir / r[0] for r in relations if r[0]]
    heap = [q for p in heap for q in [p, *p.parent.glob(p.name + ".*")] if q.exists()]
    check("the control value is in the log's heap file (the search works)",
          files_holding(heap, control.encode()) != [])
    held = files_holding(heap, secret.encode()) + files_holding(heap, secret_ip.encode())
    check("no heap or index file of Chronicle's tables holds a personal member's plaintext", held == [], str(held))
    segments = sorted(p for p in (datadir / "pg_wal").iterdir() if len(p.name) == 24 and p.name >= wal_start)
    check("the control value is in the WAL (the search works)", files_holding(segments, control.encode()) != [])
    held = files_holding(segments, secret.encode()) + files_holding(segments, secret_ip.encode())
    check("no WAL record holds a personal member's plaintext", held == [], str(held))

    # Tenants: one subject id in two tenants is two subjects, two keys.
    for role in ("sec_tenant_a", "sec_tenant_b"):
        with connect(role) as c:
            c.execute("SELECT chronicle.append_event(%s, 'SecPersonal', %s::jsonb)",
                      [f"sec-pd-{role}", json.dumps({"subject": "sec-s-2", "email": f"{role}@example.org"})])
    keys = rows(su, "SELECT tenant FROM chronicle_internal.subject_keys WHERE subject = 'sec-s-2' ORDER BY tenant")
    check("a tenant's subjects are keyed within the tenant", keys == [("a",), ("b",)], str(keys))
    with connect("sec_tenant_b") as b:
        check("tenant b forgets its own subject", one(b, "SELECT chronicle.forget_subject('sec-s-2')") == 1)
        expect(b, "tenant b cannot forget tenant a's subject (42704)",
               "SELECT chronicle.forget_subject('sec-s-1')", "42704")
        seen = rows(b, "SELECT subject, events FROM chronicle.forgotten")
        check("tenant b's audit shows its own erasure only", seen == [("sec-s-2", 1)], str(seen))
    with connect("sec_tenant_a") as a:
        email = one(a, "SELECT data ->> 'email' FROM chronicle.read_stream('sec-pd-sec_tenant_a')")
        check("tenant a's subject of the same id still reads", email == "sec_tenant_a@example.org", str(email))
    # Forgetting sec-s-1 (untenanted): the key row deleted, readers see erased.
    check("forget_subject counts the subject's events (not those truncated away)",
          one(su, "SELECT chronicle.forget_subject('sec-s-1', 'security suite')") == 121)
    check("the key row is gone (deleted, not marked)",
          one(su, "SELECT count(*) FROM chronicle_internal.subject_keys WHERE subject = 'sec-s-1'") == 0)
    with connect("sec_reader") as reader:
        got = rows(reader, "SELECT DISTINCT data -> 'email', metadata -> 'ip', data ->> 'note' "
                           "FROM chronicle.read_stream('sec-pd-1')")
        check("after forget_subject a reader reads erased members and the rest as stored",
              got == [({"erased": True}, {"erased": True}, control)], str(got))
        state = one(reader, "SELECT chronicle.state_at('sec-pd-2', 2)")
        check("after forget_subject a truncated stream's base reads erased", state.get("email") == {"erased": True},
              str(state))


def main():
    su = connect()
    setup(su)
    try:
        privileges(su)
        planted(su)
        tenants(su)
        personal(su)
    finally:
        su.execute("DROP SCHEMA IF EXISTS evil CASCADE")
        for role in ROLES:
            su.execute(f"DROP OWNED BY {role}")
            su.execute(f"DROP ROLE {role}")
        su.close()
    finish()


main()
