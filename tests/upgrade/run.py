"""Upgrades and dump/restore: a database with data, changed, compared.

Usage: python run.py upgrade DSN OLD_VERSION
       python run.py restore DSN RESTORE_DSN
       python run.py pg-upgrade-before DSN STATE_FILE
       python run.py pg-upgrade-after DSN STATE_FILE

upgrade: DSN names a superuser connection to a server where both the frozen
install script of OLD_VERSION (sql/chronicle--OLD.sql) and the upgrade
scripts are installed. The test

  * creates database chronicle_upgrade with the extension at OLD_VERSION and
    writes tests/upgrade/workload.sql into it (events, a reducer, schemas, an
    upcaster, a subscription with a checkpoint), and records what the reads
    answer;
  * runs ALTER EXTENSION chronicle UPDATE and checks the version, that every
    read answers the same, and that writing and polling go on where they were;
  * compares the upgraded catalog with a fresh CREATE EXTENSION in database
    chronicle_upgrade_fresh: every function (arguments, result, body, SECURITY
    DEFINER, settings, volatility, grants, comment), table and view (columns,
    defaults, constraints, indexes, triggers, policies, row-level security,
    options, grants, comments), and the extension's members. A schema change
    made without its upgrade script fails here.

restore: writes the same workload (and a tenant's stream) into database
chronicle_dump on DSN, pg_dumps it (-Fc), pg_restores it into a new database
chronicle_restored on RESTORE_DSN's server (a fresh cluster), and checks that
every read answers the same (positions, recording times, states,
checkpoints, tenants), that writing and polling go on, and that the restored
catalog equals a fresh install there.

pg-upgrade-before / pg-upgrade-after: the same workload (and a tenant's
stream) in database chronicle_pgup of an old major's cluster; what the reads
answer is kept in the file ARG. scripts/test.sh then shuts the cluster down
cleanly, runs pg_upgrade into a new major's cluster (the new major's build of
Chronicle installed first) and starts it; "after" checks on the new major
that every read answers the same (snapshots too), that appends continue
every stream's versions, that the sealer worker hands out the next
positions on its own, that the subscription polls on, and that the catalog
equals a fresh install on the new major.

The database chronicle_upgrade or chronicle_restored is left for the SQL
suites (scripts/test.sh runs them on copies of it). Prints
"RESULT passed=N failed=M".
"""

import json
import os
import pathlib
import pickle
import subprocess
import sys
import time

import psycopg

# check() and finish(), shared by the suites: tests/support/checks.py, found
# from this file's place (so that the suite also runs by hand).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, finish  # noqa: E402

MODE, DSN, ARG = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = pathlib.Path(__file__).parent

# One line per catalog fact about the extension's objects; two databases
# with the same lines have the same schema. Privileges are the ones in
# effect: an ACL that equals the owner's default (acldefault) and no ACL at
# all grant the same, and pg_upgrade (pg_dump in binary-upgrade mode) carries
# over neither such an ACL nor its initial-privileges record.
CATALOG = r"""
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'chronicle'),
members AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
rels AS (SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid)
SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) FROM members m
UNION ALL
SELECT format('function %s returns %s strict=%s volatile=%s parallel=%s secdef=%s leakproof=%s config=%s acl=%s owner=%s cost=%s rows=%s lang=%s body=%s comment=%s',
              p.oid::regprocedure, pg_get_function_result(p.oid), p.proisstrict, p.provolatile, p.proparallel,
              p.prosecdef, p.proleakproof, p.proconfig, coalesce(p.proacl, acldefault('f'::"char", p.proowner)),
              pg_get_userbyid(p.proowner), p.procost,
              p.prorows, l.lanname,
              md5(coalesce(pg_get_function_sqlbody(p.oid), p.prosrc)), md5(obj_description(p.oid, 'pg_proc')))
  FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
  JOIN pg_language l ON l.oid = p.prolang
UNION ALL
SELECT format('function %s arguments %s', p.oid::regprocedure, pg_get_function_arguments(p.oid))
  FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT format('relation %s kind=%s rls=%s force_rls=%s options=%s acl=%s owner=%s comment=%s view=%s',
              r.oid::regclass, r.relkind, r.relrowsecurity, r.relforcerowsecurity, r.reloptions,
              coalesce(r.relacl, acldefault((CASE r.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", r.relowner)),
              pg_get_userbyid(r.relowner),
              md5(obj_description(r.oid, 'pg_class')),
              CASE WHEN r.relkind = 'v' THEN md5(pg_get_viewdef(r.oid)) END)
  FROM rels r
UNION ALL
SELECT format('column %s.%s #%s %s notnull=%s default=%s acl=%s comment=%s', r.oid::regclass, a.attname,
              row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
              a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attacl, md5(col_description(r.oid, a.attnum)))
  FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
UNION ALL
SELECT format('constraint %s %s %s', r.oid::regclass, c.conname, pg_get_constraintdef(c.oid))
  FROM rels r JOIN pg_constraint c ON c.conrelid = r.oid
UNION ALL
SELECT format('index %s', pg_get_indexdef(i.indexrelid))
  FROM rels r JOIN pg_index i ON i.indrelid = r.oid
UNION ALL
SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
  FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
UNION ALL
SELECT format('policy %s %s cmd=%s permissive=%s roles=%s using=%s check=%s', r.oid::regclass, p.polname,
              p.polcmd, p.polpermissive, p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid),
              pg_get_expr(p.polwithcheck, p.polrelid))
  FROM rels r JOIN pg_policy p ON p.polrelid = r.oid
UNION ALL
SELECT format('dumped %s where %s', c::regclass, w)
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, w) WHERE e.extname = 'chronicle'
UNION ALL
SELECT format('sequence %s %s', s.seqrelid::regclass, row(s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax,
                                                          s.seqmin, s.seqcache, s.seqcycle))
  FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
UNION ALL
SELECT format('initial privileges %s %s %s', pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype,
              i.initprivs)
  FROM pg_init_privs i JOIN members m ON m.classid = i.classoid AND m.objid = i.objoid
 WHERE i.initprivs IS DISTINCT FROM CASE WHEN i.objsubid = 0 AND i.classoid = 'pg_class'::regclass THEN
           (SELECT acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner) FROM pg_class c WHERE c.oid = i.objoid)
       WHEN i.objsubid = 0 AND i.classoid = 'pg_proc'::regclass THEN
           (SELECT acldefault('f'::"char", f.proowner) FROM pg_proc f WHERE f.oid = i.objoid) END
UNION ALL
SELECT format('schema %s acl=%s owner=%s', n.nspname, coalesce(n.nspacl, acldefault('n'::"char", n.nspowner)),
              pg_get_userbyid(n.nspowner))
  FROM pg_namespace n WHERE n.nspname IN ('chronicle', 'chronicle_internal')
UNION ALL
SELECT format('role %s login=%s super=%s bypassrls=%s member of %s', r.rolname, r.rolcanlogin, r.rolsuper,
              r.rolbypassrls, ARRAY(SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
                                     WHERE a.member = r.oid ORDER BY 1))
  FROM pg_roles r WHERE r.rolname LIKE 'chronicle\_%' AND r.rolname <> 'chronicle_dashboard'
"""


def connect(db, dsn=None):
    return psycopg.connect(f"{dsn or DSN} dbname={db}", autocommit=True)


def recreate(db, version=None, dsn=None, extension=True):
    with connect("postgres", dsn) as c:
        c.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {db}")
    conn = connect(db, dsn)
    if extension:
        conn.execute("CREATE EXTENSION chronicle" + (f" VERSION '{version}'" if version else ""))
    return conn


def write_workload(conn):
    for statement in (HERE / "workload.sql").read_text().split(";\n"):
        if statement.strip():
            conn.execute(statement)  # each in its own transaction, as an application would


def observe(conn):
    """What the reads answer about the workload's data."""
    conn.execute("SELECT chronicle.seal()")
    q = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
    return {
        "events": q("SELECT global_position, event_id, stream_id, stream_type, version, event_type, schema_version, "
                    "data, metadata, correlation_id::text, occurred_at, recorded_at FROM chronicle.events ORDER BY global_position"),
        "streams": q("SELECT stream_id, stream_type, version, first_event_at, last_event_at "
                     "FROM chronicle.list_streams() ORDER BY 1"),
        "states": q("SELECT s.stream_id, chronicle.state_at(s.stream_id), chronicle.state_at(s.stream_id, 1) "
                    "FROM chronicle.streams s WHERE s.stream_id !~ '^archive-(cut|gone|cold)-' ORDER BY 1"),
        "history": q("SELECT * FROM chronicle.state_history('archive-cart-2')"),
        "upcast": q("SELECT version, schema_version, data FROM chronicle.read_stream('archive-cart-1', upcast => true)"),
        "correlation": q("SELECT stream_id, version FROM chronicle.read_correlation('e0000000-0000-4000-8000-0000000000cc')"),
        "feed": q("SELECT global_position, stream_id, version FROM chronicle.read_all()"),
        "subscription": q("SELECT name, stream_type, status, last_position, last_event_id, events_processed "
                          "FROM chronicle.subscriptions"),
        "definitions": q("SELECT stream_type, definition, revision FROM chronicle.reducers ORDER BY 1")
                       + q("SELECT event_type, schema_version, schema FROM chronicle.event_types ORDER BY 1, 2")
                       + q("SELECT event_type, from_schema_version, steps FROM chronicle.upcasters ORDER BY 1, 2"),
        "export": [r[0] for r in q("SELECT * FROM chronicle.export_stream('archive-cart-1')")][1:],
        "tenants": q("SELECT stream_id, tenant FROM chronicle.streams WHERE tenant <> '' ORDER BY 1")
                   if conn.execute("SELECT extversion <> '0.1.0' FROM pg_extension WHERE extname = 'chronicle'").fetchone()[0]
                   else [],
        "lifecycle": q("""SELECT s.stream_id, s.version, s.first_version, s.deleted_at IS NOT NULL, s.hard_deleted,
                                 b.version, b.state, l.operation, l.from_version, l.to_version, l.events, l.reason
                            FROM chronicle.streams s
                            LEFT JOIN chronicle.stream_bases b USING (stream_id)
                            LEFT JOIN chronicle.lifecycle_log l USING (stream_id)
                           ORDER BY 1, l.id""")
                     + q("SELECT chronicle.state_at('archive-cut-1', 2), chronicle.state_at('archive-cut-1')")
                     + q("SELECT e.global_position, e.version, e.data, s.archived_at IS NOT NULL FROM chronicle.read_stream("
                         "'archive-cold-1', include_archived => true) e, chronicle.streams s WHERE s.stream_id = 'archive-cold-1'")
                     if conn.execute("SELECT EXISTS (SELECT FROM chronicle.streams "
                                     "WHERE stream_id = 'archive-cut-1')").fetchone()[0]
                     else [],
    }


def catalog(conn):
    return {r[0] for r in conn.execute(CATALOG).fetchall()}


def goes_on(conn, before):
    """Writing and following go on where they were."""
    v = conn.execute("SELECT chronicle.append_event('archive-cart-1', 'ArchiveItemAdded', '{\"sku\": \"fig\", \"qty\": 1}', "
                     "expected_version => 2, schema_version => 2)").fetchone()[0]
    check("an append continues the stream's versions", v == 3)
    check("state_at folds the new event with the old reducer",
          conn.execute("SELECT chronicle.state_at('archive-cart-1')").fetchone()[0]
          == {"items": {"apple": 2, "pear": 3, "fig": 1}, "total": 6})
    conn.execute("SELECT chronicle.seal()")
    polled = conn.execute("SELECT global_position, stream_id, version FROM chronicle.poll('archive-projector')").fetchall()
    checkpoint = before["subscription"][0][3]
    check("poll resumes after the acknowledged checkpoint, with the new event last",
          polled and polled[0][0] > checkpoint and polled[-1][1:] == ("archive-cart-1", 3), str(polled))
    positions = [r[0] for r in conn.execute("SELECT global_position FROM chronicle.read_all()").fetchall()]
    head = conn.execute("SELECT count(*) FROM chronicle.feed f, unnest(f.ids)").fetchone()[0]
    check("the feed goes on: the same positions, then the next one (holes only where events were removed)",
          positions == [r[0] for r in before["feed"]] + [head], f"{positions} (head {head})")


def compare_catalogs(changed, fresh, what):
    got, want = catalog(changed), catalog(fresh)
    missing, extra = sorted(want - got), sorted(got - want)
    check(f"the {what} catalog equals a fresh install ({len(want)} facts)", not missing and not extra,
          "in a fresh install only:\n  " + "\n  ".join(missing) + f"\n{what} only:\n  " + "\n  ".join(extra))


def write_tenant_stream(conn):
    """A tenant's stream (a superuser may set chronicle.tenant)."""
    conn.execute("SET chronicle.tenant = 'acme'")
    conn.execute("SELECT chronicle.append_event('archive-acme-1', 'ArchivePaymentTaken', '{\"amount\": 1}', "
                 "stream_type => 'ArchivePayment')")
    conn.execute("RESET chronicle.tenant")


def write_lifecycle(conn):
    """A stream truncated behind a base state and one deleted (0.6.0 on):
    their removed events carry a text that no dump may contain (the base
    state, the merge of versions 1 and 2, holds version 2's value)."""
    for i in range(1, 5):
        conn.execute("SELECT chronicle.append_event('archive-cut-1', 'ArchiveNoted', %s)",
                     [json.dumps({"n": i, "secret": "removed-secret-1" if i == 1 else "kept"})])
    conn.execute("SELECT chronicle.append_event('archive-gone-1', 'ArchiveNoted', "
                 "'{\"secret\": \"removed-secret-gone\"}')")
    conn.execute("SELECT chronicle.append_event('archive-cold-1', 'ArchiveNoted', '{\"cold\": true}')")
    conn.execute("SELECT chronicle.seal()")
    conn.execute("SELECT chronicle.truncate_stream('archive-cut-1', 3, reason => 'restore test')")
    conn.execute("SELECT chronicle.delete_stream('archive-gone-1', hard => true)")
    conn.execute("SELECT chronicle.archive_stream('archive-cold-1')")


def write_personal(conn):
    """Personal data (0.7.0 on): two subjects' events, one subject forgotten
    before the dump. The dump holds the live subject's key (so the restored
    database opens its members) and none of either subject's plaintext."""
    conn.execute("SELECT chronicle.define_personal_data('ArchiveSignedUp', '/who', '{/email}')")
    for who in ("kept", "gone"):
        conn.execute("SELECT chronicle.append_event(%s, 'ArchiveSignedUp', %s)",
                     [f"archive-person-{who}", json.dumps({"who": f"archive-{who}", "email": f"{who}-pd@example.org"})])
    conn.execute("SELECT chronicle.forget_subject('archive-gone', 'restore test')")


def restore(restore_dsn):
    source = recreate("chronicle_dump")
    write_workload(source)
    write_tenant_stream(source)
    check("the workload wrote its events",
          source.execute("SELECT count(*) FROM chronicle.events").fetchone()[0] == 7)
    write_lifecycle(source)
    write_personal(source)
    before = observe(source)
    check("personal members read opened before the dump",
          source.execute("SELECT data ->> 'email' FROM chronicle.read_stream('archive-person-kept')").fetchone()[0]
          == "kept-pd@example.org")
    dump = "/tmp/chronicle-restore.dump"
    pgbin = os.environ["PGBIN"]
    subprocess.run([f"{pgbin}/pg_dump", "-Fc", "-f", dump, f"{DSN} dbname=chronicle_dump"], check=True)
    text = subprocess.run([f"{pgbin}/pg_restore", "-f", "-", dump], check=True, capture_output=True).stdout
    check("the dump holds no data of a removed event", b"removed-secret" not in text)
    check("... and the kept ones' (the dump is not empty)", b'"secret": "kept"' in text)
    check("the dump holds no plaintext of a personal member", b"-pd@example.org" not in text)
    check("the dump holds the keys of the subjects not forgotten (kept like a key)",
          b"archive-kept" in text and b"subject_keys" in text)
    source.close()
    recreate("chronicle_restored", dsn=restore_dsn, extension=False).close()
    subprocess.run([f"{pgbin}/pg_restore", "--exit-on-error", "-d", f"{restore_dsn} dbname=chronicle_restored", dump],
                   check=True)
    restored = connect("chronicle_restored", restore_dsn)
    after = observe(restored)
    for key in before:
        check(f"after pg_dump/pg_restore, {key} reads the same", before[key] == after[key],
              f"before: {before[key]}\nafter:  {after[key]}")
    emails = [restored.execute("SELECT data -> 'email' FROM chronicle.read_stream(%s)", [f"archive-person-{w}"])
              .fetchone()[0] for w in ("kept", "gone")]
    check("the restored database opens the kept subject's members, the forgotten one's stay erased",
          emails == ["kept-pd@example.org", {"erased": True}], str(emails))
    goes_on(restored, before)
    fresh = recreate("chronicle_restore_fresh", dsn=restore_dsn)
    compare_catalogs(restored, fresh, "restored")
    restored.close()
    fresh.close()


def upgrade(old_version):
    OLD = old_version
    old = recreate("chronicle_upgrade", OLD)
    check(f"the extension installs at {OLD}",
          old.execute("SELECT extversion FROM pg_extension WHERE extname = 'chronicle'").fetchone()[0] == OLD)
    write_workload(old)
    before = observe(old)
    check("the workload wrote its events", len(before["events"]) == 6, str(before["events"]))
    # Under 0.1.0 the functions ran with their callers' rights: an application
    # role needed table privileges, and could write a snapshot of its own.
    old.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'archive_app') THEN "
                "CREATE ROLE archive_app LOGIN; END IF; END $$")
    old.execute("GRANT USAGE ON SCHEMA chronicle TO archive_app")
    old.execute("GRANT SELECT, INSERT, UPDATE ON chronicle.event_log, chronicle.streams, chronicle.snapshots, "
                "chronicle.subscriptions TO archive_app")
    old.execute("GRANT USAGE ON SEQUENCE chronicle.event_log_id_seq TO archive_app")
    old.execute("INSERT INTO chronicle.snapshots (stream_id, version, stream_type, reducer_revision, "
                "upcasters_fingerprint, state) VALUES ('archive-cart-1', 1, 'ArchiveCart', 1, 0, '{\"forged\": true}')")

    warnings = []
    old.add_notice_handler(lambda d: warnings.append(d.message_primary))
    old.execute("ALTER EXTENSION chronicle UPDATE")
    check("the update warns that it revoked the 0.1.0 grants, naming the role",
          any("revoked the privileges of archive_app" in w for w in warnings), str(warnings))
    kept = old.execute("""SELECT c.oid::regclass::text, p FROM pg_class c,
                                 unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) p
                           WHERE c.relnamespace = 'chronicle'::regnamespace AND c.relkind IN ('r', 'v')
                             AND has_table_privilege('archive_app', c.oid, p)""").fetchall()
    check("no privilege granted under 0.1.0 survives the update", kept == [], str(kept))
    check("the update empties the snapshot cache (0.1.0 let roles write it)",
          old.execute("SELECT count(*) FROM chronicle.snapshots").fetchone()[0] == 0)
    version = old.execute("SELECT extversion FROM pg_extension WHERE extname = 'chronicle'").fetchone()[0]
    fresh = recreate("chronicle_upgrade_fresh")
    latest = fresh.execute("SELECT extversion FROM pg_extension WHERE extname = 'chronicle'").fetchone()[0]
    check(f"ALTER EXTENSION UPDATE goes from {OLD} to the current version {latest}", version == latest and version != OLD,
          f"got {version}")

    after = observe(old)
    for key in before:
        check(f"after the update, {key} reads the same", before[key] == after[key],
              f"before: {before[key]}\nafter:  {after[key]}")
    check("every old row belongs to no tenant",
          old.execute("SELECT count(*) FROM chronicle.event_log WHERE tenant <> ''").fetchone()[0] == 0)

    goes_on(old, before)
    compare_catalogs(old, fresh, "upgraded")
    old.close()
    fresh.close()


SNAPSHOTS = ("SELECT stream_id, version, stream_type, reducer_revision, upcasters_fingerprint, state "
             "FROM chronicle.snapshots ORDER BY 1, 2")


def pg_upgrade_before(state_file):
    conn = recreate("chronicle_pgup")
    write_workload(conn)
    write_tenant_stream(conn)
    conn.execute("SET chronicle.snapshot_every = 1")  # state_at leaves a snapshot of every stream it folds
    before = observe(conn)
    check("the workload wrote its events", len(before["events"]) == 7, str(before["events"]))
    before["snapshots"] = conn.execute(SNAPSHOTS).fetchall()
    check("state_at left snapshots to carry over", len(before["snapshots"]) > 0)
    waiting = conn.execute("SELECT waiting_events FROM chronicle.feed_status").fetchone()[0]
    check("every event is sealed before the old cluster shuts down", waiting == 0, f"{waiting} waiting")
    before["server"] = conn.execute("SHOW server_version_num").fetchone()[0]
    before["version"] = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'chronicle'").fetchone()[0]
    conn.close()
    with open(state_file, "wb") as f:
        pickle.dump(before, f)


def wait_sealed(conn, timeout=10):
    """True once the sealer worker has handed out every committed event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute("SELECT waiting_events FROM chronicle.feed_status").fetchone()[0] == 0:
            return True
        time.sleep(0.05)
    return False


def pg_upgrade_after(state_file):
    with open(state_file, "rb") as f:
        before = pickle.load(f)
    upgraded = connect("chronicle_pgup")
    server = upgraded.execute("SHOW server_version_num").fetchone()[0]
    check(f"pg_upgrade moved the data from PostgreSQL {before['server']} to {server}",
          before["server"][:2] != server[:2], f"{before['server']} -> {server}")
    version = upgraded.execute("SELECT extversion FROM pg_extension WHERE extname = 'chronicle'").fetchone()[0]
    check("the extension keeps its version", version == before.pop("version"), version)
    # The snapshots first: observe() folds (and may write snapshots) again.
    snapshots = upgraded.execute(SNAPSHOTS).fetchall()
    kept = before.pop("snapshots")
    check("after pg_upgrade, the snapshots read the same", snapshots == kept, f"before: {kept}\nafter: {snapshots}")
    before.pop("server")
    after = observe(upgraded)
    for key in before:
        check(f"after pg_upgrade, {key} reads the same", before[key] == after[key],
              f"before: {before[key]}\nafter:  {after[key]}")
    # No explicit seal: an append starts the new major's sealer worker, which
    # hands out the next position.
    v = upgraded.execute("SELECT chronicle.append_event('archive-pay-1', 'ArchivePaymentTaken', '{\"amount\": 2}')"
                         ).fetchone()[0]
    check("an append continues the stream's versions on the new major", v == 2, str(v))
    check("the sealer worker seals it on its own", wait_sealed(upgraded))
    position = upgraded.execute("SELECT global_position FROM chronicle.events WHERE stream_id = 'archive-pay-1' "
                                "AND version = 2").fetchone()[0]
    check("... at the next position of the feed", position == len(before["feed"]) + 1, str(position))
    upgraded.execute("SET chronicle.tenant = 'acme'")
    v = upgraded.execute("SELECT chronicle.append_event('archive-acme-1', 'ArchivePaymentTaken', '{\"amount\": 3}')"
                         ).fetchone()[0]
    upgraded.execute("RESET chronicle.tenant")
    check("a tenant's stream goes on under its tenant", v == 2, str(v))
    # goes_on appends one more event and expects the feed dense up to it.
    goes_on(upgraded, dict(before, feed=before["feed"] + [(position,), (position + 1,)]))
    fresh = recreate("chronicle_pgup_fresh")
    compare_catalogs(upgraded, fresh, "pg_upgraded")
    upgraded.close()
    fresh.close()


def main():
    {"upgrade": upgrade, "restore": restore,
     "pg-upgrade-before": pg_upgrade_before, "pg-upgrade-after": pg_upgrade_after}[MODE](ARG)
    finish()


main()
