"""Runs the shared test vectors against the chronicle extension in a live server.

The core's reference model runs the same files (shared/tests/vectors.rs), so a
case that passes in both proves the extension and the core agree.

Usage: python run_sql.py DSN   (prints one line per case, then a RESULT line)
"""

import json
import pathlib
import sys
import time

import psycopg
from psycopg.types.json import Jsonb

# check() and finish(), shared by the suites: tests/support/checks.py, found
# from this file's place (so that the suite also runs by hand).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, finish  # noqa: E402

HERE = pathlib.Path(__file__).parent

# SQL type of each argument, for the casts of the named-argument call.
TYPES = {
    "stream_id": "text", "event_type": "text", "data": "jsonb", "metadata": "jsonb",
    "expected_version": "bigint", "event_id": "uuid", "stream_type": "text",
    "correlation_id": "text", "causation_id": "text", "actor": "text", "version": "bigint",
    "occurred_at": "timestamptz", "schema_version": "int", "events": "jsonb", "definition": "jsonb",
    # the subscription functions
    "name": "text", "event_types": "text[]", "after_position": "bigint", "to_position": "bigint",
    "max_count": "int", "consumer": "int", "consumers": "int", "error_message": "text",
}

# The positions a subscription call takes or returns (shifted by the feed's
# head before the case, see run_subscription_case).
POSITION_ARGS = ("after_position", "to_position")
POSITION_COLUMNS = ("last_position", "rebuild_target")


def expand(v):
    """Expands the {"$nest": N} shorthand into N nested arrays."""
    if isinstance(v, dict):
        if list(v) == ["$nest"]:
            out = []
            for _ in range(v["$nest"]):
                out = [out]
            return out
        return {k: expand(x) for k, x in v.items()}
    if isinstance(v, list):
        return [expand(x) for x in v]
    return v


def call(cur, fn, args):
    names, params = [], []
    for name, value in args.items():
        names.append(f"{name} => %s::{TYPES[name]}")
        params.append(Jsonb(value) if TYPES[name] == "jsonb" and value is not None else value)
    cur.execute(f"SELECT chronicle.{fn}({', '.join(names)})", params)
    return cur.fetchone()[0]


def run_case(conn, case):
    problems = []
    with conn.transaction(force_rollback=True):
        cur = conn.cursor()
        for setting, value in case.get("limits", {}).items():
            cur.execute(f"SET LOCAL chronicle.{setting} = {int(value)}")
        for i, step in enumerate(case["steps"]):
            want = step["expect"]
            try:
                with conn.transaction():
                    got = call(cur, step["call"], expand(step["args"]))
            except psycopg.Error as e:
                diag = e.diag
                if "error" not in want:
                    problems.append(f"step {i}: expected version {want['version']}, got {e.sqlstate}: {diag.message_primary}")
                    continue
                w = want["error"]
                if e.sqlstate != w["sqlstate"]:
                    problems.append(f"step {i}: expected {w['sqlstate']}, got {e.sqlstate}: {diag.message_primary}")
                if w["field"] not in (diag.message_primary or ""):
                    problems.append(f"step {i}: message does not name {w['field']!r}: {diag.message_primary}")
                if not diag.message_hint:
                    problems.append(f"step {i}: no HINT: {diag.message_primary}")
                continue
            if "error" in want:
                problems.append(f"step {i}: expected {want['error']}, got version {got}")
            elif "version" in want and got != want["version"]:
                problems.append(f"step {i}: expected version {want['version']}, got {got}")
        for stream_id, want in case.get("streams", {}).items():
            cur.execute("SELECT stream_type, version FROM chronicle.streams WHERE stream_id = %s", [stream_id])
            head = cur.fetchone()
            cur.execute("SELECT version, event_type FROM chronicle.read_stream(%s)", [stream_id])
            rows = cur.fetchall()
            if want is None:
                if head or rows:
                    problems.append(f"stream {stream_id} should not exist")
                continue
            if head != (want["stream_type"], want["version"]):
                problems.append(f"stream {stream_id}: head {head}, expected {(want['stream_type'], want['version'])}")
            if [v for v, _ in rows] != list(range(1, want["version"] + 1)):
                problems.append(f"stream {stream_id}: versions {[v for v, _ in rows]}")
            if [t for _, t in rows] != want["event_types"]:
                problems.append(f"stream {stream_id}: events {[t for _, t in rows]}")
    return problems


class Num(str):
    """A JSON number kept as its exact text."""


def canonical(v):
    """The core's canonical JSON (shared/src/canonical.rs), for comparing byte for byte."""
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode())
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(x) for k, x in items) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def exact(text):
    return json.loads(text, parse_float=Num, parse_int=Num)


def run_replay_case(conn, case, snapshot_every=0):
    """Loads the case's events into a stream (as stored rows, with their own
    recorded_at) and checks chronicle.state_at after every version. With
    snapshot_every > 0 the answers come from snapshots where they can: they
    must not change."""
    problems = []
    with conn.transaction(force_rollback=True):
        cur = conn.cursor()
        cur.execute(f"SET LOCAL chronicle.snapshot_every = {int(snapshot_every)}")
        if case["reducer"] is not None:
            try:
                with conn.transaction():
                    cur.execute("SELECT chronicle.define_reducer('Vector', %s)", [Jsonb(case["reducer"], dumps=canonical)])
            except psycopg.Error as e:
                want = case.get("error")
                if not want:
                    return [f"define_reducer failed: {e.sqlstate}: {e.diag.message_primary}"]
                if e.sqlstate != want["sqlstate"] or want["field"] not in e.diag.message_primary:
                    problems.append(f"expected {want}, got {e.sqlstate}: {e.diag.message_primary}")
                return problems
            if "error" in case:
                return [f"definition accepted, expected {case['error']}"]
        for event_type, chain in case.get("upcasters", {}).items():
            for from_version, steps in chain.items():
                cur.execute("SELECT chronicle.define_upcaster(%s, %s, %s)",
                            [event_type, int(from_version), Jsonb(steps, dumps=canonical)])
        events = case["events"]
        for ev in events:
            cur.execute(
                "INSERT INTO chronicle.event_log (event_id, stream_id, stream_type, version, event_type, data,"
                " schema_version, occurred_at, recorded_at) VALUES (gen_random_uuid(), 'vector-1', 'Vector',"
                " %s, %s, %s, %s, coalesce(%s, %s)::timestamptz, %s)",
                [ev["version"], ev["event_type"], Jsonb(ev["data"], dumps=canonical), ev.get("schema_version", 1),
                 ev.get("occurred_at"), ev["recorded_at"], ev["recorded_at"]])
        cur.execute(
            "INSERT INTO chronicle.streams (stream_id, stream_type, version, first_event_at, last_event_at)"
            " VALUES ('vector-1', 'Vector', %s, now(), now())",
            [max([e["version"] for e in events], default=0) or 1])
        if "initial" in case:
            cur.execute("SELECT chronicle.state_at('vector-1', 0)::text")
            got = canonical(exact(cur.fetchone()[0]))
            if got != case["initial"]:
                problems.append(f"initial: {got} != {case['initial']}")
        for ev, want in zip(events, case["states"]):
            try:
                with conn.transaction():
                    cur.execute("SELECT chronicle.state_at('vector-1', %s)::text", [ev["version"]])
                    got = canonical(exact(cur.fetchone()[0]))
            except psycopg.Error as e:
                if not isinstance(want, dict) or e.sqlstate != want["error"]["sqlstate"]:
                    problems.append(f"version {ev['version']}: {e.sqlstate}: {e.diag.message_primary}")
                break
            if got != want:
                problems.append(f"version {ev['version']}: {got} != {want}")
        for stop in case.get("as_of", []):
            v = stop["version"]
            cur.execute("SELECT chronicle.state_at('vector-1', as_of => %s)::text", [stop["time"]])
            got = canonical(exact(cur.fetchone()[0]))
            want = case["states"][v - 1] if v else canonical(exact(json.dumps(
                (case["reducer"] or {}).get("initial", {}))))
            if got != want:
                problems.append(f"as of {stop['time']}: {got} != {want}")
    return problems


def shift(value, by):
    """A position of the case's feed as the database numbers it (NULL and
    negative positions are passed as they are: they are the refusals)."""
    return value + by if isinstance(value, int) and value >= 0 else value


def named(args):
    names = [f"{k} => %s::{TYPES[k]}" for k in args]
    params = [Jsonb(v) if TYPES[k] == "jsonb" and v is not None else v for k, v in args.items()]
    return ", ".join(names), params


def seal_up_to(cur, head):
    """Seals until the feed reaches head (the events just appended)."""
    for _ in range(200):
        cur.execute("SELECT chronicle.seal()")
        cur.execute("SELECT chronicle.feed_head()")
        if cur.fetchone()[0] >= head:
            return
        time.sleep(0.05)
    raise AssertionError(f"the feed did not reach {head}")


def run_subscription_case(conn, case):
    """Runs a case of subscriptions.json. The database may hold events
    already (an upgraded or restored copy): the case's feed starts after
    the head it finds, and every position going in or coming out is shifted
    by that head, so a case reads as if its feed started at 1. Stream ids
    are kept as they are (consumer groups assign streams by their id's hash)."""
    problems = []
    cur = conn.cursor()
    cur.execute("SELECT chronicle.seal()")
    cur.execute("SELECT chronicle.feed_head()")
    offset = cur.fetchone()[0]

    def append(e):
        cur.execute("SELECT chronicle.append_event(%s, %s, '{}', stream_type => %s)",
                    [e["stream_id"], e["event_type"], e["stream_type"]])
        cur.execute("SELECT chronicle.feed_head() + count(*) FILTER (WHERE global_position IS NULL) "
                    "FROM chronicle.events")
        seal_up_to(cur, cur.fetchone()[0])
        cur.execute("SELECT chronicle.feed_head()")
        return cur.fetchone()[0] - offset

    for e in case["feed"]:
        append(e)
    created = set()
    for i, step in enumerate(case["steps"]):
        fn, want = step["call"], step["expect"]
        args = dict(step["args"])
        for k in POSITION_ARGS:
            if k in args:
                args[k] = shift(args[k], offset)
        # A position left to its default (0: the beginning) is this case's beginning.
        if fn == "create_subscription" and "after_position" not in args:
            args["after_position"] = offset
        if fn == "reset_subscription" and "to_position" not in args:
            args["to_position"] = offset
        if fn == "append":  # committed, then sealed
            got = append(args)
            if got != want.get("position"):
                problems.append(f"step {i} (append): position {got}, expected {want.get('position')}")
            continue
        try:
            with conn.transaction():
                sql, params = named(args)
                if fn == "poll":
                    cur.execute(f"SELECT global_position FROM chronicle.poll({sql})", params)
                    got = [r[0] - offset for r in cur.fetchall()]
                elif fn == "ack":
                    cur.execute(f"SELECT chronicle.ack({sql})", params)
                    got = cur.fetchone()[0] - offset
                else:
                    cur.execute(f"SELECT to_jsonb(s) FROM chronicle.{fn}({sql}) s", params)
                    got = cur.fetchone()[0]
                    for k in POSITION_COLUMNS:
                        if got.get(k) is not None:
                            got[k] -= offset
                    created.add(got["name"])
        except psycopg.Error as e:
            w = want.get("error")
            if not w:
                problems.append(f"step {i} ({fn}): expected {want}, got {e.sqlstate}: {e.diag.message_primary}")
            elif e.sqlstate != w["sqlstate"] or w["field"] not in (e.diag.message_primary or ""):
                problems.append(f"step {i} ({fn}): expected {w}, got {e.sqlstate}: {e.diag.message_primary}")
            elif not e.diag.message_hint:
                problems.append(f"step {i} ({fn}): no HINT: {e.diag.message_primary}")
            continue
        if "error" in want:
            problems.append(f"step {i} ({fn}): expected {want['error']}, got {got}")
            continue
        for key in ("positions", "checkpoint", "position"):
            if key in want and got != want[key]:
                problems.append(f"step {i} ({fn}): {key} {got}, expected {want[key]}")
        for k, v in want.get("row", {}).items():
            if got.get(k) != v:
                problems.append(f"step {i} ({fn}): row.{k} = {got.get(k)!r}, expected {v!r}")
        name = args.get("name")
        if "state" in want:
            cur.execute("SELECT to_jsonb(s) FROM chronicle.subscriptions s WHERE name = %s", [name])
            row = cur.fetchone()[0]
            for k in POSITION_COLUMNS:
                if row.get(k) is not None:
                    row[k] -= offset
            for k, v in want["state"].items():
                if row.get(k) != v:
                    problems.append(f"step {i} ({fn}): state.{k} = {row.get(k)!r}, expected {v!r}")
        if "consumer_positions" in want:
            cur.execute("SELECT array_agg(position - %s ORDER BY consumer) FROM chronicle.subscription_consumers "
                        "WHERE subscription = %s", [offset, name])
            got_positions = cur.fetchone()[0]
            if got_positions != want["consumer_positions"]:
                problems.append(f"step {i} ({fn}): consumer positions {got_positions}, "
                                f"expected {want['consumer_positions']}")
    for name in created:
        cur.execute("DELETE FROM chronicle.subscriptions WHERE name = %s", [name])
    return problems


def check_consumer_of(conn, rows):
    """The core's consumer assignment equals Postgres' hashtextextended mod n
    (what 0.2.0 computed in SQL: upgraded groups keep their streams)."""
    problems = []
    for r in rows:
        got = conn.execute(
            "SELECT chronicle_internal._consumer_of(%(s)s, %(n)s), "
            "mod(mod(hashtextextended(%(s)s, 0), %(n)s) + %(n)s, %(n)s)",
            {"s": r["stream_id"], "n": r["consumers"]}).fetchone()
        if list(got) != [r["consumer"], r["consumer"]]:
            problems.append(f"{r['stream_id']} of {r['consumers']}: core and hash give {got}, expected {r['consumer']}")
    return problems


def run_personal_case(conn, case):
    """Defines the case's personal data, appends its events with
    append_event, forgets its subjects and reads the stream back: read_stream
    must give the case's `read` events and state_at its states, byte for
    byte (in a transaction rolled back afterwards)."""
    problems = []
    with conn.transaction(force_rollback=True):
        cur = conn.cursor()
        for d in case["definitions"]:
            cur.execute("SELECT chronicle.define_personal_data(%s, %s, %s)",
                        [d["event_type"], d["subject"], d["paths"]])
        if case["reducer"] is not None:
            cur.execute("SELECT chronicle.define_reducer('PdVector', %s)", [Jsonb(case["reducer"], dumps=canonical)])
        for event_type, chain in case.get("upcasters", {}).items():
            for from_version, steps in chain.items():
                cur.execute("SELECT chronicle.define_upcaster(%s, %s, %s)",
                            [event_type, int(from_version), Jsonb(steps, dumps=canonical)])
        stream_id = f"pd-vector-{time.monotonic_ns()}"
        for ev in case["events"]:
            cur.execute("SELECT chronicle.append_event(%s, %s, %s, %s, expected_version => %s, actor => %s,"
                        " stream_type => 'PdVector')",
                        [stream_id, ev["event_type"], Jsonb(ev["data"], dumps=canonical),
                         Jsonb(ev.get("metadata", {}), dumps=canonical), ev["version"] - 1, ev.get("actor")])
        for subject in case["forget"]:
            cur.execute("SELECT chronicle.forget_subject(%s)", [subject])
        cur.execute("SELECT version, event_type, data::text, metadata::text, actor"
                    " FROM chronicle.read_stream(%s) ORDER BY version", [stream_id])
        got = [(v, t, canonical(exact(d)), canonical(exact(m)), a) for v, t, d, m, a in cur.fetchall()]
        want = [(e["version"], e["event_type"], canonical(e["data"]), canonical(e.get("metadata", {})),
                 e.get("actor")) for e in case["read"]]
        for g, w in zip(got, want):
            if g != w:
                problems.append(f"read_stream at version {w[0]}: {g} != {w}")
        if len(got) != len(want):
            problems.append(f"read_stream: {len(got)} events, expected {len(want)}")
        for version, state in enumerate(case["states"], start=1):
            cur.execute("SELECT chronicle.state_at(%s, %s)::text", [stream_id, version])
            got_state = canonical(exact(cur.fetchone()[0]))
            if got_state != state:
                problems.append(f"state_at {version}: {got_state} != {state}")
    return problems


def main():
    dsn = sys.argv[1]
    with psycopg.connect(dsn, autocommit=True) as conn:
        runs = [
            ("append.json", run_case),
            ("replay.json", run_replay_case),
            ("replay.json", lambda conn, case: run_replay_case(conn, case, snapshot_every=1)),
            ("personal.json", run_personal_case),
        ]
        for name, runner in runs:
            path = HERE / name
            doc = json.loads(path.read_text(), parse_float=Num) if name in ("replay.json", "personal.json") \
                else json.loads(path.read_text())
            for case in doc["cases"]:
                problems = runner(conn, case)
                check(f"{path.name}: {case['name']}", not problems, "\n".join(problems))
        doc = json.loads((HERE / "subscriptions.json").read_text())
        for case in doc["cases"]:
            problems = run_subscription_case(conn, case)
            check(f"subscriptions.json: {case['name']}", not problems, "\n".join(problems))
        problems = check_consumer_of(conn, doc["consumer_of"])
        check("subscriptions.json: consumer_of equals hashtextextended mod n", not problems, "\n".join(problems))
    finish()


if __name__ == "__main__":
    main()
