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

HERE = pathlib.Path(__file__).parent

# SQL type of each argument, for the casts of the named-argument call.
TYPES = {
    "stream_id": "text", "event_type": "text", "data": "jsonb", "metadata": "jsonb",
    "expected_version": "bigint", "event_id": "uuid", "stream_type": "text",
    "correlation_id": "uuid", "causation_id": "uuid", "actor": "text",
    "occurred_at": "timestamptz", "schema_version": "int", "events": "jsonb",
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
            elif got != want["version"]:
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


def main():
    dsn = sys.argv[1]
    passed = failed = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        # replay.json runs in the core only until the SQL replay functions land.
        for path in [HERE / "append.json"]:
            doc = json.loads(path.read_text())
            for case in doc["cases"]:
                problems = run_case(conn, case)
                if problems:
                    failed += 1
                    print(f"FAIL {path.name}: {case['name']}")
                    for p in problems:
                        print(f"     {p}")
                else:
                    passed += 1
                    print(f"ok   {path.name}: {case['name']}")
    print(f"RESULT passed={passed} failed={failed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
