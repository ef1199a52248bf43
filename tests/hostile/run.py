"""The bad-input catalogue: hostile and malformed calls at the SQL level.

Each row of CASES is (what, SQL, expected SQLSTATE, "ok" or TRUE), with, for
a refusal, optionally what its message must begin with (the argument it
names, or the whole message). Every call runs in its own transaction against
a database with some events in it; afterwards the test checks that

  * the call failed with exactly the documented SQLSTATE, its message
    beginning as given (or succeeded, for the rows marked "ok", such as a
    subscription whose name looks like SQL injection: it is only a name);
  * a row marked TRUE holds statements separated by "; " that all succeed,
    and every one of them that answers a single boolean answers true (the
    last one must): these show that NULL for an argument with a default
    takes the default. They are rolled back afterwards;
  * a failed call stored nothing: the event log, the streams, the feed's
    state (and its holes), the definitions, the retention rules and the
    lifecycle log are as before;
  * the server is still up, and its log has no crashed backend.

NULL for an argument without a default (stream_id, name, data, ack's
to_position, ...) is still refused with 22004.

Usage: python run.py DSN SERVER_LOG
"""

import pathlib
import sys
import time

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

# The call succeeds and every boolean it answers is true (then rolled back).
TRUE = "ok, true"
# Streams of one event each that setup appends: more than the default
# max_count (1000) of read_all, poll and list_streams.
BULK = 1001

# (what, SQL, expected SQLSTATE | "ok" | TRUE[, what the message must begin with])
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
    ("correlation_id of 300 characters", f"SELECT {A}('s-1', 'A', '{{}}', correlation_id => repeat('c', 300))", "22001"),
    ("correlation_id with a zero-width space", f"SELECT {A}('s-1', 'A', '{{}}', correlation_id => E'exec\\u200b1')", "22023"),
    ("causation_id with a newline", f"SELECT {A}('s-1', 'A', '{{}}', causation_id => E'cmd\\n1')", "22023"),
    ("a batch's correlation_id that is an object",
     f"SELECT {B}('s-1', '[{{\"event_type\": \"A\", \"data\": {{}}, \"correlation_id\": {{}}}}]')", "22023"),
    ("a new stream named by a uuid, without stream_type",
     f"SELECT {A}('ab1c2f0e-5b1e-4a55-9d53-0b7c0d1c9a10', 'A', '{{}}')", "22023"),
    ("a new stream named by a code, without stream_type", f"SELECT {A}('ES-TEST-001', 'A', '{{}}')", "22023"),
    ("version 0", f"SELECT {A}('s-1', 'A', '{{}}', version => 0)", "22023"),
    ("version that contradicts expected_version", f"SELECT {A}('s-1', 'A', '{{}}', version => 9, expected_version => 1)", "22023"),
    ("version beyond the head", f"SELECT {A}('order-1', 'A', '{{}}', version => 99)", "40001"),
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
    # append_event: NULL for an argument with a default takes the default
    ("append_event metadata and schema_version NULL take their defaults ({} and 1)",
     f"SELECT {A}('null-1', 'A', '{{}}', metadata => NULL, schema_version => NULL) = 1; "
     "SELECT metadata = '{}' AND schema_version = 1 FROM chronicle.event_log WHERE stream_id = 'null-1'", TRUE),
    # definitions
    ("reducer definition NULL", "SELECT chronicle.define_reducer('Order', NULL)", "22004", "definition"),
    ("reducer stream_type NULL", "SELECT chronicle.define_reducer(NULL, '{}')", "22004", "stream_type"),
    ("reducer with an unknown operation", "SELECT chronicle.define_reducer('Order', '{\"on\": {\"A\": [{\"op\": \"eval\", \"path\": \"/x\"}]}}')", "22023"),
    ("reducer path that is not a pointer", "SELECT chronicle.define_reducer('Order', '{\"on\": {\"A\": [{\"op\": \"set\", \"path\": \"x\", \"value\": 1}]}}')", "22023"),
    ("reducer that is an array", "SELECT chronicle.define_reducer('Order', '[]')", "22023"),
    ("event schema with an unsupported keyword", "SELECT chronicle.define_event_type('A', 1, '{\"pattern\": \"^x\"}')", "22023",
     "definition.pattern"),
    ("event schema with an unknown type", "SELECT chronicle.define_event_type('A', 1, '{\"type\": \"text\"}')", "22023",
     "definition.type"),
    ("event schema with an unknown type, deprecated (event_type, schema, schema_version)",
     "SELECT chronicle.define_event_type('A', '{\"type\": \"text\"}')", "22023", "definition.type"),
    ("event schema with an unknown type, arguments by name",
     "SELECT chronicle.define_event_type(event_type => 'A', schema_version => 1, definition => '{\"type\": \"text\"}')",
     "22023", "definition.type"),
    ("event schema version 0", "SELECT chronicle.define_event_type('A', 0, '{}')", "22023", "schema_version"),
    ("event schema version 0, deprecated signature", "SELECT chronicle.define_event_type('A', '{}', 0)", "22023",
     "schema_version"),
    ("event schema version NULL (no default)", "SELECT chronicle.define_event_type('A', NULL::int, '{}')", "22004",
     "schema_version"),
    ("event schema definition NULL", "SELECT chronicle.define_event_type('A', 1, NULL)", "22004", "definition"),
    ("deprecated define_event_type: schema_version NULL takes its default (1)",
     "SELECT chronicle.define_event_type('Untyped', '{\"type\": \"object\"}', NULL::int); "
     "SELECT schema_version = 1 FROM chronicle.event_type('Untyped')", TRUE),
    ("upcaster steps that are not an array", "SELECT chronicle.define_upcaster('A', 1, '{}')", "22023", "definition"),
    ("upcaster from version 0", "SELECT chronicle.define_upcaster('A', 0, '[]')", "22023", "from_schema_version"),
    ("upcaster with an unknown step", "SELECT chronicle.define_upcaster('A', 1, '[{\"op\": \"exec\", \"path\": \"/a\"}]')", "22023",
     "definition[0].op"),
    ("upcaster from_schema_version NULL", "SELECT chronicle.define_upcaster('A', NULL, '[]')", "22004", "from_schema_version"),
    # the getters of definitions
    ("reducer() of a stream type without a reducer", "SELECT chronicle.reducer('Order')", "42704",
     'no reducer is defined for stream_type "Order"'),
    ("reducer() with a NULL stream_type", "SELECT chronicle.reducer(NULL)", "22004", "stream_type"),
    ("event_type() of an event type without a schema", "SELECT chronicle.event_type('Nope')", "42704",
     'no schema is defined for event_type "Nope"'),
    ("event_type() at a schema_version not defined", "SELECT chronicle.event_type('Typed', 3)", "42704",
     'no schema is defined for event_type "Typed" at schema_version 3'),
    ("event_type() with schema_version NULL is its newest (the default)",
     "SELECT schema_version = 2 FROM chronicle.event_type('Typed', NULL)", TRUE),
    ("upcaster() from a schema_version without one", "SELECT chronicle.upcaster('Typed', 2)", "42704",
     'no upcaster is defined for event_type "Typed" at from_schema_version 2'),
    ("upcaster() of an event type without upcasters", "SELECT chronicle.upcaster('Nope', 1)", "42704",
     'no upcaster is defined for event_type "Nope"'),
    ("upcaster() with from_schema_version NULL (no default)", "SELECT chronicle.upcaster('Typed', NULL)", "22004",
     "from_schema_version"),
    # reads and replay
    ("read_stream from a negative version", "SELECT * FROM chronicle.read_stream('order-1', -1)", "22023", "from_version"),
    ("read_stream with to_version below from_version", "SELECT * FROM chronicle.read_stream('order-1', 2, 1)", "22023",
     "to_version"),
    ("state_history with to_version below from_version", "SELECT * FROM chronicle.state_history('order-1', 2, 1)", "22023",
     "to_version"),
    ("export_stream with to_version below from_version", "SELECT * FROM chronicle.export_stream('order-1', 2, 1)", "22023",
     "to_version"),
    ("read_stream with a NULL stream_id", "SELECT * FROM chronicle.read_stream(NULL)", "22004", "stream_id"),
    ("read_stream from_version NULL reads from 1 (the default)",
     "SELECT array_agg(version ORDER BY version) = '{1,2}' FROM chronicle.read_stream('order-1', NULL)", TRUE),
    ("read_stream upcast NULL does not upcast (the default)",
     "SELECT bool_and(schema_version = 2 AND data = '{\"b\": 1}') FROM chronicle.read_stream('typed-1', upcast => true); "
     "SELECT bool_and(schema_version = 1 AND data = '{\"a\": 1}') AND count(*) = 1 "
     "FROM chronicle.read_stream('typed-1', upcast => NULL)", TRUE),
    ("state_history from_version NULL starts at 1 (the default)",
     "SELECT array_agg(version ORDER BY version) = '{1,2}' FROM chronicle.state_history('order-1', NULL)", TRUE),
    ("export_stream from_version NULL exports from 1 (the default)",
     "SELECT count(*) = 3 FROM chronicle.export_stream('order-1', NULL)", TRUE),
    ("state_at version -5", "SELECT chronicle.state_at('order-1', -5)", "22023", "to_version"),
    ("state_at of a stream that does not exist", "SELECT chronicle.state_at('nope')", "42704",
     'no stream has stream_id "nope"'),
    ("state_at a version beyond the stream's head", "SELECT chronicle.state_at('order-1', 3)", "22023", "to_version"),
    ("state_at with a NULL stream_id", "SELECT chronicle.state_at(NULL)", "22004", "stream_id"),
    ("read_all after a negative position", "SELECT * FROM chronicle.read_all(-1)", "22023", "after_position"),
    ("read_all max_count negative", "SELECT * FROM chronicle.read_all(0, -1)", "22023", "max_count"),
    ("read_all after_position NULL reads from 0 (the default)",
     "SELECT a = b AND cardinality(a) = 5 FROM (SELECT ARRAY(SELECT global_position FROM chronicle.read_all(NULL, 5)) a, "
     "ARRAY(SELECT global_position FROM chronicle.read_all(0, 5)) b) x", TRUE),
    ("read_all max_count NULL reads 1000 (the default)",
     "SELECT count(*) = 1000 FROM chronicle.read_all(0, NULL)", TRUE),
    ("list_streams max_count negative", "SELECT * FROM chronicle.list_streams(max_count => -1)", "22023", "max_count"),
    ("list_streams max_count NULL lists 1000 (the default)",
     "SELECT count(*) = 1000 FROM chronicle.list_streams(max_count => NULL)", TRUE),
    ("read_correlation NULL", "SELECT * FROM chronicle.read_correlation(NULL)", "22004", "correlation_id"),
    ("export of a stream that does not exist", "SELECT chronicle.export_stream('nope')", "42704",
     'no stream has stream_id "nope"'),
    ("import of text that is not an export", "SELECT chronicle.import_stream('DROP TABLE chronicle.event_log')", "22023"),
    ("import of NULL", "SELECT chronicle.import_stream(NULL)", "22004", "lines"),
    ("import in a format there is not", "SELECT chronicle.import_stream('{}', format => 'csv')", "22023", "format"),
    ("import of an export as domain events",
     "SELECT chronicle.import_stream('{\"format\": \"chronicle-export\", \"format_version\": 1}', format => 'domain-events')",
     "22023"),
    ("import of domain events that are not JSON", "SELECT chronicle.import_stream('{oops', format => 'domain-events')", "22023"),
    # sealing
    ("seal max_count negative", "SELECT chronicle.seal(-1)", "22023", "max_count"),
    ("deprecated seal(bigint) with a negative max_events", "SELECT chronicle.seal(-1::bigint)", "22023", "max_events"),
    ("deprecated seal(bigint) with NULL (no default now)", "SELECT chronicle.seal(NULL::bigint)", "22004", "max_events"),
    # subscriptions
    ("subscription name that looks like SQL injection",
     "SELECT name FROM chronicle.create_subscription('x''); DROP TABLE chronicle.event_log; --')", "ok"),
    ("poll of a subscription that does not exist", "SELECT * FROM chronicle.poll('nope')", "42704",
     'no subscription has name "nope"'),
    ("poll with a NULL name", "SELECT * FROM chronicle.poll(NULL)", "22004", "name"),
    ("poll max_count negative", "SELECT * FROM chronicle.poll('projection', -1)", "22023", "max_count"),
    ("poll max_count, consumer and consumers NULL: 1000 events, consumer 0 of 1 (the defaults)",
     "SELECT count(*) = 1000 FROM chronicle.poll('projection', NULL, NULL, NULL); "
     "SELECT consumers = 1 FROM chronicle.subscriptions WHERE name = 'projection'", TRUE),
    ("subscription created twice", "SELECT chronicle.create_subscription('projection')", "42710",
     'a subscription with name "projection" exists already'),
    ("subscription created after a negative position",
     "SELECT chronicle.create_subscription('negative', after_position => -1)", "22023", "after_position"),
    ("subscription created after a position beyond the head",
     "SELECT chronicle.create_subscription('ahead', after_position => 1000000000)", "22023", "after_position"),
    ("create_subscription after_position NULL starts after 0 (the default)",
     "SELECT last_position = 0 FROM chronicle.create_subscription('from-null', after_position => NULL); "
     "SELECT position = 0 FROM chronicle.subscription_consumers WHERE subscription = 'from-null'; "
     "SELECT min(global_position) = (SELECT min(global_position) FROM chronicle.read_all(0, 1)) "
     "FROM chronicle.poll('from-null', 1)", TRUE),
    ("ack beyond the head", "SELECT chronicle.ack('projection', 1000000000)", "22023", "to_position"),
    ("ack to_position NULL (no default)", "SELECT chronicle.ack('projection', NULL)", "22004", "to_position"),
    ("ack consumer NULL acks consumer 0 (the default)",
     "SELECT chronicle.ack('projection', 2, consumer => NULL) = 2; "
     "SELECT position = 2 FROM chronicle.subscription_consumers WHERE subscription = 'projection' AND consumer = 0", TRUE),
    ("ack of a subscription that does not exist", "SELECT chronicle.ack('nope', 1)", "42704",
     'no subscription has name "nope"'),
    ("poll consumer outside the group", "SELECT * FROM chronicle.poll('projection', 10, 5, 2)", "22023", "consumer"),
    ("reset_subscription beyond the head", "SELECT chronicle.reset_subscription('projection', 1000000000)", "22023",
     "to_position"),
    ("reset_subscription to_position NULL resets to 0 (the default)",
     "SELECT chronicle.ack('projection', 2) = 2; "
     "SELECT last_position = 0 FROM chronicle.reset_subscription('projection', NULL); "
     "SELECT bool_and(position = 0) FROM chronicle.subscription_consumers WHERE subscription = 'projection'", TRUE),
    ("fail_subscription error_message NULL (no default)", "SELECT chronicle.fail_subscription('projection', NULL)", "22004",
     "error_message"),
    ("drop_subscription of a subscription that does not exist", "SELECT chronicle.drop_subscription('nope')", "42704",
     'no subscription has name "nope"'),
    ("drop_subscription returns the dropped row",
     "SELECT name = 'projection' AND status = 'running' FROM chronicle.drop_subscription('projection'); "
     "SELECT NOT EXISTS (SELECT FROM chronicle.subscriptions WHERE name = 'projection')", TRUE),
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
    # the lifecycle (a refused call removes nothing: the snapshot check)
    ("delete_stream stream_id NULL", "SELECT chronicle.delete_stream(NULL)", "22004", "stream_id"),
    ("delete_stream of an unknown stream", "SELECT chronicle.delete_stream('no-such-stream')", "42704", "no stream"),
    ("delete_stream with a negative expected_version",
     "SELECT chronicle.delete_stream('order-1', expected_version => -1)", "22023", "expected_version"),
    ("delete_stream at a stale expected_version",
     "SELECT chronicle.delete_stream('order-1', expected_version => 1)", "40001"),
    ("delete_stream with a stream_id that tries SQL",
     "SELECT chronicle.delete_stream('order-1''; DELETE FROM chronicle.event_log; --')", "42704"),
    ("delete_stream with a control character in stream_id",
     "SELECT chronicle.delete_stream(E'order-1\\n')", "22023", "stream_id"),
    ("truncate_stream before_version NULL", "SELECT chronicle.truncate_stream('order-1', NULL)", "22004", "before_version"),
    ("truncate_stream before_version 0", "SELECT chronicle.truncate_stream('order-1', 0)", "22023", "before_version"),
    ("truncate_stream with a negative before_version",
     "SELECT chronicle.truncate_stream('order-1', -9223372036854775808)", "22023", "before_version"),
    ("truncate_stream past the head", "SELECT chronicle.truncate_stream('order-1', 4)", "22023", "before_version"),
    ("truncate_stream far in the future",
     "SELECT chronicle.truncate_stream('order-1', 9223372036854775807)", "22023", "before_version"),
    ("truncate_stream of an unknown stream", "SELECT chronicle.truncate_stream('no-such-stream', 2)", "42704"),
    ("delete_stream in a REPEATABLE READ transaction",
     "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT chronicle.delete_stream('order-1')", "55000"),
    ("truncate_stream in a read-only transaction",
     "SET TRANSACTION READ ONLY; SELECT chronicle.truncate_stream('order-1', 2)", "55000"),
    ("set_retention on an unknown stream type", "SELECT chronicle.set_retention('NoSuchType', max_count => 5)",
     "42704", "no stream has stream_type"),
    ("set_retention stream_type NULL", "SELECT chronicle.set_retention(NULL, max_count => 5)", "22004", "stream_type"),
    ("set_retention with a stream_type that tries SQL",
     "SELECT chronicle.set_retention('Order''; DROP TABLE chronicle.event_log; --', max_count => 5)", "22023", "stream_type"),
    ("set_retention max_count 0", "SELECT chronicle.set_retention('Order', max_count => 0)", "22023", "max_count"),
    ("set_retention with a negative max_count",
     "SELECT chronicle.set_retention('Order', max_count => -9223372036854775808)", "22023", "max_count"),
    ("set_retention max_age of zero", "SELECT chronicle.set_retention('Order', max_age => '0 s')", "22023", "max_age"),
    ("set_retention with a negative max_age",
     "SELECT chronicle.set_retention('Order', max_age => '-1 year')", "22023", "max_age"),
    ("set_retention with a max_age of mixed signs",
     "SELECT chronicle.set_retention('Order', max_age => '1 month -40 days')", "22023", "max_age"),
    ("set_retention in a read-only transaction",
     "SET TRANSACTION READ ONLY; SELECT chronicle.set_retention('Order', max_count => 5)", "25006"),
    ("archive_stream stream_id NULL", "SELECT chronicle.archive_stream(NULL)", "22004", "stream_id"),
    ("archive_stream of an unknown stream", "SELECT chronicle.archive_stream('no-such-stream')", "42704"),
    ("restore_stream of a stream that is not archived", "SELECT chronicle.restore_stream('order-1')", "22023", "stream_id"),
    ("archive_stream twice",
     "SELECT chronicle.archive_stream('typed-1'); SELECT chronicle.archive_stream('typed-1')", "55Z03"),
    ("an append to an archived stream",
     f"SELECT chronicle.archive_stream('typed-1'); SELECT {A}('typed-1', 'Typed', '{{\"b\": 1}}', schema_version => 2)", "55Z03"),
    ("archive_stream in a read-only transaction",
     "SET TRANSACTION READ ONLY; SELECT chronicle.archive_stream('order-1')", "55000"),
    ("apply_retention in a REPEATABLE READ transaction",
     "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT chronicle.apply_retention()", "55000"),
    # personal data: definitions (chronicle.define_personal_data)
    ("define_personal_data event_type NULL", "SELECT chronicle.define_personal_data(NULL, '/who', '{/email}')", "22004", "event_type"),
    ("define_personal_data subject NULL", "SELECT chronicle.define_personal_data('Personal', NULL, '{/email}')", "22004", "subject"),
    ("define_personal_data paths NULL", "SELECT chronicle.define_personal_data('Personal', '/who', NULL)", "22004", "paths"),
    ("define_personal_data paths empty", "SELECT chronicle.define_personal_data('Personal', '/who', '{}')", "22023", "paths"),
    ("define_personal_data a path NULL", "SELECT chronicle.define_personal_data('Personal', '/who', ARRAY[NULL]::text[])", "22004",
     "paths[0]"),
    ("define_personal_data subject not a JSON pointer", "SELECT chronicle.define_personal_data('Personal', 'who', '{/email}')", "22023",
     "subject"),
    ("define_personal_data subject the whole event", "SELECT chronicle.define_personal_data('Personal', '', '{/email}')", "22023",
     "subject"),
    ("define_personal_data subject a sequencing member", "SELECT chronicle.define_personal_data('Personal', '/stream_id', '{/email}')",
     "22023", "subject"),
    ("define_personal_data a path naming an envelope member that cannot be encrypted",
     "SELECT chronicle.define_personal_data('Personal', '/who', '{/email,/actor}')", "22023", "paths[1]"),
    ("define_personal_data a path naming a sequencing member", "SELECT chronicle.define_personal_data('Personal', '/who', '{/version}')",
     "22023", "paths[0]"),
    ("define_personal_data a path naming the whole data", "SELECT chronicle.define_personal_data('Personal', '/who', '{/data}')",
     "22023", "paths[0]"),
    ("define_personal_data overlapping paths", "SELECT chronicle.define_personal_data('Personal', '/who', '{/home,/home/street}')",
     "22023", "paths[1]"),
    ("define_personal_data subject inside a personal member",
     "SELECT chronicle.define_personal_data('Personal', '/person/id', '{/person}')", "22023", "subject"),
    ("define_personal_data event_type empty", "SELECT chronicle.define_personal_data('', '/who', '{/email}')", "22023", "event_type"),
    ("define_personal_data from a session with a tenant",
     "SET LOCAL chronicle.tenant = 'acme'; SELECT chronicle.define_personal_data('Personal', '/who', '{/email}')", "42501"),
    ("define_personal_data in a read-only transaction",
     "SET TRANSACTION READ ONLY; SELECT chronicle.define_personal_data('Personal', '/who', '{/email}')", "25006"),
    ("define_personal_data by a writer",
     "SET LOCAL ROLE chronicle_writer; SELECT chronicle.define_personal_data('Personal', '/who', '{/email}')", "42501"),
    # personal data: appends whose subject cannot be found
    ("an event whose subject is missing", f"SELECT {A}('p-2', 'Personal', '{{\"email\": \"x@example.org\"}}')",
     "22023", "data.who"),
    ("an event whose subject is empty", f"SELECT {A}('p-2', 'Personal', '{{\"who\": \"\", \"email\": \"x\"}}')",
     "22023", "data.who"),
    ("an event whose subject is a number", f"SELECT {A}('p-2', 'Personal', '{{\"who\": 7, \"email\": \"x\"}}')",
     "22023", "data.who"),
    ("an event whose subject is an object",
     f"SELECT {A}('p-2', 'Personal', '{{\"who\": {{\"id\": 7}}, \"email\": \"x\"}}')", "22023", "data.who"),
    ("an event whose subject is JSON null", f"SELECT {A}('p-2', 'Personal', '{{\"who\": null}}')",
     "22023", "data.who"),
    ("a batch event whose subject is missing",
     f"SELECT {B}('p-2', '[{{\"event_type\": \"Tick\", \"data\": {{}}}}, {{\"event_type\": \"Personal\", \"data\": {{}}}}]')",
     "22023", "events[1].data.who"),
    ("an imported event whose subject is missing",
     "SELECT chronicle.import_stream('{\"aggregate_id\": \"p-3\", \"aggregate_type\": \"P\", "
     "\"event_type\": \"Personal\", \"data\": {\"email\": \"x\"}}', format => 'domain-events')", "22023",
     "events[0].data.who"),
    # personal data: forget_subject
    ("forget_subject subject NULL", "SELECT chronicle.forget_subject(NULL)", "22004", "subject"),
    ("forget_subject of an unknown subject", "SELECT chronicle.forget_subject('p-unknown')", "42704"),
    ("forget_subject of another tenant's subject",
     "SET LOCAL chronicle.tenant = 'acme'; SELECT chronicle.forget_subject('p-known')", "42704"),
    ("forget_subject in a read-only transaction", "SET TRANSACTION READ ONLY; SELECT chronicle.forget_subject('p-known')", "25006"),
    ("forget_subject by a writer", "SET LOCAL ROLE chronicle_writer; SELECT chronicle.forget_subject('p-known')", "42501"),
    ("the keys read by an admin", "SET LOCAL ROLE chronicle_admin; SELECT * FROM chronicle_internal.subject_keys",
     "42501"),
    ("the keys deleted by an admin", "SET LOCAL ROLE chronicle_admin; DELETE FROM chronicle_internal.subject_keys",
     "42501"),
]

SNAPSHOT = """
SELECT (SELECT count(*) FROM chronicle.event_log),
       (SELECT count(*) FROM chronicle.feed f, unnest(f.ids) u(id) WHERE u.id = 0),
       (SELECT count(*) FROM chronicle.lifecycle_log),
       (SELECT count(*) FROM chronicle.retention_rules),
       (SELECT coalesce(sum(version), 0) FROM chronicle.streams),
       (SELECT count(*) FROM chronicle.reducers),
       (SELECT count(*) FROM chronicle.event_types),
       (SELECT count(*) FROM chronicle.upcasters),
       (SELECT count(*) FROM chronicle.subscriptions),
       (SELECT count(*) FROM chronicle_internal.personal_data_definitions),
       (SELECT count(*) FROM chronicle_internal.subject_keys),
       (SELECT count(*) FROM chronicle.forgotten)
"""


def setup(conn):
    """Appends the events the cases use and waits until they are sealed;
    returns how many events it appended."""
    head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
    conn.execute("SELECT chronicle.append_event('order-1', 'OrderCreated', '{\"n\": 1}', stream_type => 'Order',"
                 " event_id => 'a0000000-0000-4000-8000-000000000001')")
    conn.execute("SELECT chronicle.append_event('order-1', 'ItemAdded', '{\"n\": 2}')")
    conn.execute("SELECT chronicle.create_subscription('projection')")
    # An event type with two schema versions and an upcaster from 1 to 2,
    # and a stream with an event at version 1.
    conn.execute("SELECT chronicle.define_event_type('Typed', 1, '{\"type\": \"object\", \"required\": [\"a\"]}')")
    conn.execute("SELECT chronicle.define_event_type('Typed', 2, '{\"type\": \"object\", \"required\": [\"b\"]}')")
    conn.execute("SELECT chronicle.define_upcaster('Typed', 1, '[{\"op\": \"rename\", \"path\": \"/a\", \"to\": \"b\"}]')")
    conn.execute("SELECT chronicle.append_event('typed-1', 'Typed', '{\"a\": 1}', stream_type => 'Typed', schema_version => 1)")
    # An event type with personal data and a subject known by one event.
    conn.execute("SELECT chronicle.define_personal_data('Personal', '/who', '{/email}')")
    conn.execute("SELECT chronicle.append_event('p-1', 'Personal', '{\"who\": \"p-known\", \"email\": \"k@example.org\"}')")
    # More streams and events than a default page holds.
    conn.execute("SELECT count(chronicle.append_event(format('bulk-%%s', i), 'Tick', '{}', stream_type => 'Bulk'))"
                 " FROM generate_series(1, %s) i", [BULK])
    appended = 4 + BULK
    # The cases that read the feed need every event sealed: seal by hand
    # (an old transaction elsewhere in the cluster can hold the sealer back).
    deadline = time.monotonic() + 120
    while True:
        conn.execute("SELECT chronicle.seal()")
        sealed = conn.execute("SELECT chronicle.feed_head()").fetchone()[0] - head
        if sealed >= appended or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(f"setup: its {appended} events are sealed", sealed >= appended, f"{sealed} of {appended} sealed after 120 s")
    return appended


def main():
    dsn, log_path = sys.argv[1], sys.argv[2]
    log_start = len(open(log_path, errors="replace").read())
    with psycopg.connect(dsn, autocommit=True) as conn:
        # The database may hold events from before (an upgraded or a
        # restored one): count from here.
        stored = conn.execute("SELECT count(*) FROM chronicle.event_log").fetchone()[0]
        stored += setup(conn)
        for what, sql, want, *names in CASES:
            before = conn.execute(SNAPSHOT).fetchone()
            got = "ok"
            message = ""
            answers = []
            try:
                with conn.transaction():
                    split = sql.startswith(("SET TRANSACTION", "SET LOCAL")) or want == TRUE
                    for statement in sql.split("; ") if split else [sql]:
                        cur = conn.execute(statement)
                        if cur.description is not None:
                            result = cur.fetchall()
                            if len(result) == 1 and len(result[0]) == 1 and isinstance(result[0][0], bool):
                                answers.append(result[0][0])
                            else:
                                answers.append(result)
                    if want == TRUE:
                        raise psycopg.Rollback()
            except psycopg.Error as e:
                got = e.sqlstate or f"no sqlstate: {e}"
                message = e.diag.message_primary or ""
            if want == TRUE and got == "ok":
                # every boolean answer true, and the last answer one
                got = TRUE if answers and answers[-1] is True and False not in answers else f"answers {answers}"
            after = conn.execute(SNAPSHOT).fetchone()
            problems = []
            if got != want:
                problems.append(f"got {got}, want {want}" + (f": {message}" if message else ""))
            elif names and not message.startswith(names[0]):
                problems.append(f"the message does not begin with {names[0]!r}: {message}")
            if want != "ok" and after != before:
                problems.append(f"stored something: {before} -> {after}")
            check(f"{what}: {want}", not problems, "; ".join(problems) + "\n" + sql[:300])
        # The injection-looking name is just a name; the log is intact.
        assert conn.execute("SELECT count(*) FROM chronicle.event_log").fetchone()[0] == stored
    # The server is up, and no backend crashed.
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT 1")
    log = open(log_path, errors="replace").read()[log_start:]
    crashes = [line for line in log.splitlines()
               if "terminated by signal" in line or "PANIC" in line or "server process" in line]
    check("no backend crashed (server log)", not crashes,
          "the server log shows crashed backends:\n  " + "\n  ".join(crashes[:10]))
    print(f"{len(CASES)} cases: {sum(c[2] not in ('ok', TRUE) for c in CASES)} refusals, "
          f"{sum(c[2] == TRUE for c in CASES)} defaults taken for NULL, {sum(c[2] == 'ok' for c in CASES)} other successful calls")
    finish()


if __name__ == "__main__":
    main()
