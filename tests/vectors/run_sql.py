"""Runs the shared test vectors against the chronicle extension in a live server.

The core's reference model runs the same files (shared/tests/vectors.rs), so a
case that passes in both proves the extension and the core agree.

Usage: python run_sql.py DSN   (prints one line per case, then a RESULT line)
"""

import json
import pathlib
import sys

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
    "correlation_id": "uuid", "causation_id": "uuid", "actor": "text",
    "occurred_at": "timestamptz", "schema_version": "int", "events": "jsonb", "schema": "jsonb",
}


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


def main():
    dsn = sys.argv[1]
    with psycopg.connect(dsn, autocommit=True) as conn:
        runs = [
            ("append.json", run_case),
            ("replay.json", run_replay_case),
            ("replay.json", lambda conn, case: run_replay_case(conn, case, snapshot_every=1)),
        ]
        for name, runner in runs:
            path = HERE / name
            doc = json.loads(path.read_text(), parse_float=Num) if name == "replay.json" \
                else json.loads(path.read_text())
            for case in doc["cases"]:
                problems = runner(conn, case)
                check(f"{path.name}: {case['name']}", not problems, "\n".join(problems))
    finish()


if __name__ == "__main__":
    main()
