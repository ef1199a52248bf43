"""The bad-input catalogue: hostile and malformed calls at the SQL level.

Each row of CASES is (what, SQL, expected SQLSTATE or "ok"). Every call runs
in its own transaction against a database with some events in it; afterwards
the test checks that

  * the call failed with exactly the documented SQLSTATE (or succeeded, for
    the rows marked "ok", such as a subscription whose name looks like SQL
    injection: it is only a name);
  * a failed call stored nothing: the event log, the streams, the feed's
    state and the definitions are as before;
  * the server is still up, and its log has no crashed backend.

Usage: python run.py DSN SERVER_LOG
"""

import pathlib
import sys

import psycopg

# check() and finish(), shared by the suites: tests/support/checks.py, found
# from this file's place (so that the suite also runs by hand).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, finish  # noqa: E402

DEEP = "'{\"a\": " + "[" * 10_000 + "]" * 10_000 + "}'"
BIG = "jsonb_build_object('blob', repeat('x', 2 * 1024 * 1024))"
BATCH_100K = ("(SELECT jsonb_agg(jsonb_build_object('event_type', 'Tick', 'data', '{}'::jsonb))"
              " FROM generate_series(1, 100000))")

A = "chronicle.append_event"
B = "chronicle.append_events"

# (what, SQL, expected SQLSTATE | "ok")
CASES = [
    # append_event: NULLs
    ("stream_id NULL", f"SELECT {A}(NULL, 'A', '{{}}')", "22004"),
    ("event_type NULL", f"SELECT {A}('s-1', NULL, '{{}}')", "22004"),
    ("data NULL", f"SELECT {A}('s-1', 'A', NULL)", "22004"),
    # data and metadata that are not objects
    ("data is an array", f"SELECT {A}('s-1', 'A', '[]')", "22023"),
    ("data is a string", f"SELECT {A}('s-1', 'A', '\"text\"')", "22023"),
    ("data is JSON null", f"SELECT {A}('s-1', 'A', 'null')", "22023"),
    ("metadata is an array", f"SELECT {A}('s-1', 'A', '{{}}', metadata => '[1]')", "22023"),
    ("data nested 10,000 levels deep", f"SELECT {A}('s-1', 'A', {DEEP})", "54000"),
    ("event above chronicle.max_event_size", f"SELECT {A}('s-1', 'A', {BIG})", "54000"),
    # identifiers
    ("stream_id of 10,000 characters", f"SELECT {A}(repeat('s', 10000), 'A', '{{}}')", "22001"),
    ("stream_id empty", f"SELECT {A}('', 'A', '{{}}')", "22023"),
    ("stream_id with a newline", f"SELECT {A}(E'order\\n1', 'A', '{{}}')", "22023"),
    ("stream_id with NUL-like control character", f"SELECT {A}(E'order\\x01', 'A', '{{}}')", "22023"),
    ("stream_id with a zero-width space", f"SELECT {A}(U&'order\\200B-1', 'A', '{{}}')", "22023"),
    ("stream_id with a right-to-left override", f"SELECT {A}(U&'order-\\202E1', 'A', '{{}}')", "22023"),
    ("stream_id with leading white space", f"SELECT {A}(' order-1', 'A', '{{}}')", "22023"),
    ("event_type with a space", f"SELECT {A}('s-1', 'Item Added', '{{}}')", "22023"),
    ("event_type of 101 characters", f"SELECT {A}('s-1', repeat('E', 101), '{{}}')", "22001"),
    ("event_type that tries SQL", f"SELECT {A}('s-1', 'A''); DROP TABLE chronicle.event_log; --', '{{}}')", "22023"),
    ("stream_type with a space", f"SELECT {A}('s-9', 'A', '{{}}', stream_type => 'Bad Type')", "22023"),
    ("stream_type that differs from the stream's", f"SELECT {A}('order-1', 'A', '{{}}', stream_type => 'Other')", "22023"),
    ("actor of 300 characters", f"SELECT {A}('s-1', 'A', '{{}}', actor => repeat('a', 300))", "22001"),
    # versions and numbers
    ("expected_version negative", f"SELECT {A}('s-1', 'A', '{{}}', expected_version => -1)", "22023"),
    ("expected_version at bigint's maximum", f"SELECT {A}('order-1', 'A', '{{}}', expected_version => 9223372036854775807)", "40001"),
    # A literal beyond bigint is numeric: Postgres finds no such function.
    ("expected_version beyond bigint", f"SELECT {A}('order-1', 'A', '{{}}', expected_version => 9223372036854775808)", "42883"),
    ("expected_version beyond bigint, cast", f"SELECT {A}('order-1', 'A', '{{}}', expected_version => 9223372036854775808::bigint)", "22003"),
    ("expected_version stale", f"SELECT {A}('order-1', 'A', '{{}}', expected_version => 1)", "40001"),
    ("schema_version 0", f"SELECT {A}('s-1', 'A', '{{}}', schema_version => 0)", "22023"),
    ("event_id that is not a uuid", f"SELECT {A}('s-1', 'A', '{{}}', event_id => 'not-a-uuid')", "22P02"),
    ("event_id of another stream's event", f"SELECT {A}('s-1', 'A', '{{}}', event_id => 'a0000000-0000-4000-8000-000000000001')", "23505"),
    ("occurred_at infinity", f"SELECT {A}('s-1', 'A', '{{}}', occurred_at => 'infinity')", "22023"),
    ("occurred_at -infinity in a batch", f"SELECT {B}('s-1', '[{{\"event_type\": \"A\", \"data\": {{}}, \"occurred_at\": \"-infinity\"}}]')", "22023"),
    # append_events
    ("events NULL", f"SELECT {B}('s-1', NULL)", "22004"),
    ("events is an object", f"SELECT {B}('s-1', '{{}}')", "22023"),
    ("events is empty", f"SELECT {B}('s-1', '[]')", "22023"),
    ("a batch of 100,000 events", f"SELECT {B}('s-1', {BATCH_100K})", "54000"),
    ("an element without event_type", f"SELECT {B}('s-1', '[{{\"data\": {{}}}}]')", "22004"),
    ("an element with an unknown field", f"SELECT {B}('s-1', '[{{\"event_type\": \"A\", \"data\": {{}}, \"sql\": 1}}]')", "22023"),
    ("an element whose data is a number", f"SELECT {B}('s-1', '[{{\"event_type\": \"A\", \"data\": 5}}]')", "22023"),
    ("the same event_id twice in a batch",
     f"SELECT {B}('s-1', '[{{\"event_type\": \"A\", \"data\": {{}}, \"event_id\": \"b0000000-0000-4000-8000-000000000001\"}},"
     f" {{\"event_type\": \"A\", \"data\": {{}}, \"event_id\": \"b0000000-0000-4000-8000-000000000001\"}}]')", "22023"),
    ("an element whose event_id is not a uuid", f"SELECT {B}('s-1', '[{{\"event_type\": \"A\", \"data\": {{}}, \"event_id\": \"x\"}}]')", "22023"),
    # definitions
    ("reducer definition NULL", "SELECT chronicle.define_reducer('Order', NULL)", "22004"),
    ("reducer stream_type NULL", "SELECT chronicle.define_reducer(NULL, '{}')", "22004"),
    ("reducer with an unknown operation", "SELECT chronicle.define_reducer('Order', '{\"on\": {\"A\": [{\"op\": \"eval\", \"path\": \"/x\"}]}}')", "22023"),
    ("reducer path that is not a pointer", "SELECT chronicle.define_reducer('Order', '{\"on\": {\"A\": [{\"op\": \"set\", \"path\": \"x\", \"value\": 1}]}}')", "22023"),
    ("reducer that is an array", "SELECT chronicle.define_reducer('Order', '[]')", "22023"),
    ("event schema with an unsupported keyword", "SELECT chronicle.define_event_type('A', '{\"pattern\": \"^x\"}')", "22023"),
    ("event schema with an unknown type", "SELECT chronicle.define_event_type('A', '{\"type\": \"text\"}')", "22023"),
    ("event schema version 0", "SELECT chronicle.define_event_type('A', '{}', 0)", "22023"),
    ("upcaster steps that are not an array", "SELECT chronicle.define_upcaster('A', 1, '{}')", "22023"),
    ("upcaster from version 0", "SELECT chronicle.define_upcaster('A', 0, '[]')", "22023"),
    ("upcaster with an unknown step", "SELECT chronicle.define_upcaster('A', 1, '[{\"op\": \"exec\", \"path\": \"/a\"}]')", "22023"),
    # reads and replay
    ("read_stream from version 0", "SELECT * FROM chronicle.read_stream('order-1', 0)", "22023"),
    ("state_at version -5", "SELECT chronicle.state_at('order-1', -5)", "22023"),
    ("read_all after a negative position", "SELECT * FROM chronicle.read_all(-1)", "22023"),
    ("read_all max_count negative", "SELECT * FROM chronicle.read_all(0, -1)", "22023"),
    ("read_correlation NULL", "SELECT * FROM chronicle.read_correlation(NULL)", "22004"),
    ("export of a stream that does not exist", "SELECT chronicle.export_stream('nope')", "42704"),
    ("import of text that is not an export", "SELECT chronicle.import_stream('DROP TABLE chronicle.event_log')", "22023"),
    # subscriptions
    ("subscription name that looks like SQL injection",
     "SELECT name FROM chronicle.create_subscription('x''); DROP TABLE chronicle.event_log; --')", "ok"),
    ("poll of a subscription that does not exist", "SELECT * FROM chronicle.poll('nope')", "42704"),
    ("poll with a NULL name", "SELECT * FROM chronicle.poll(NULL)", "22004"),
    ("subscription created twice", "SELECT chronicle.create_subscription('projection')", "42710"),
    ("ack beyond the head", "SELECT chronicle.ack('projection', 1000000)", "22023"),
    ("poll consumer outside the group", "SELECT * FROM chronicle.poll('projection', 10, 5, 2)", "22023"),
    # history is append-only
    ("UPDATE of the event log", "UPDATE chronicle.event_log SET data = '{}'", "55000"),
    ("DELETE through the events view", "DELETE FROM chronicle.events", "55000"),
    ("TRUNCATE of the event log", "TRUNCATE chronicle.event_log", "55000"),
    # writes in a read-only transaction (as on a standby)
    ("append_event in a read-only transaction",
     f"SET TRANSACTION READ ONLY; SELECT {A}('s-1', 'A', '{{}}')", "25006"),
    ("append_events in a read-only transaction",
     f"SET TRANSACTION READ ONLY; SELECT {B}('s-1', '[{{\"event_type\": \"A\", \"data\": {{}}}}]')", "25006"),
    ("define_reducer in a read-only transaction",
     "SET TRANSACTION READ ONLY; SELECT chronicle.define_reducer('Order', '{}')", "25006"),
    ("create_subscription in a read-only transaction",
     "SET TRANSACTION READ ONLY; SELECT chronicle.create_subscription('ro')", "25006"),
    ("seal() in a REPEATABLE READ transaction",
     "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT chronicle.seal()", "55000"),
]

SNAPSHOT = """
SELECT (SELECT count(*) FROM chronicle.event_log),
       (SELECT coalesce(sum(version), 0) FROM chronicle.streams),
       (SELECT count(*) FROM chronicle.reducers),
       (SELECT count(*) FROM chronicle.event_types),
       (SELECT count(*) FROM chronicle.upcasters),
       (SELECT count(*) FROM chronicle.subscriptions)
"""


def setup(conn):
    conn.execute("SELECT chronicle.append_event('order-1', 'OrderCreated', '{\"n\": 1}', stream_type => 'Order',"
                 " event_id => 'a0000000-0000-4000-8000-000000000001')")
    conn.execute("SELECT chronicle.append_event('order-1', 'ItemAdded', '{\"n\": 2}')")
    conn.execute("SELECT chronicle.create_subscription('projection')")


def main():
    dsn, log_path = sys.argv[1], sys.argv[2]
    log_start = len(open(log_path, errors="replace").read())
    with psycopg.connect(dsn, autocommit=True) as conn:
        # The database may hold events from before (an upgraded or a
        # restored one): count from here.
        stored = conn.execute("SELECT count(*) FROM chronicle.event_log").fetchone()[0]
        setup(conn)
        for what, sql, want in CASES:
            before = conn.execute(SNAPSHOT).fetchone()
            got = "ok"
            try:
                with conn.transaction():
                    for statement in sql.split("; ") if sql.startswith("SET TRANSACTION") else [sql]:
                        conn.execute(statement)
            except psycopg.Error as e:
                got = e.sqlstate or f"no sqlstate: {e}"
            after = conn.execute(SNAPSHOT).fetchone()
            problems = []
            if got != want:
                problems.append(f"got {got}, want {want}")
            if want != "ok" and after != before:
                problems.append(f"stored something: {before} -> {after}")
            check(f"{what}: {want}", not problems, "; ".join(problems) + "\n" + sql[:200])
        # The injection-looking name is just a name; the log is intact.
        assert conn.execute("SELECT count(*) FROM chronicle.event_log").fetchone()[0] == stored + 2
    # The server is up, and no backend crashed.
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT 1")
    log = open(log_path, errors="replace").read()[log_start:]
    crashes = [line for line in log.splitlines()
               if "terminated by signal" in line or "PANIC" in line or "server process" in line]
    check("no backend crashed (server log)", not crashes,
          "the server log shows crashed backends:\n  " + "\n  ".join(crashes[:10]))
    print(f"{len(CASES)} cases")
    finish()


if __name__ == "__main__":
    main()
