"""Replicas: a hot standby of the test cluster (pg_basebackup + streaming
replication) serves Chronicle's reads, and after promotion takes appends;
nothing committed on the primary is lost.

  * on the standby, every stream reads the same events, replays to the same
    states and exports the same lines as on the primary, and read_all
    delivers the same feed (positions come from the primary's sealer);
  * writing on the standby is refused (25006, read-only) and stores nothing;
  * after promotion every event committed on the primary is there, appends
    continue each stream's versions, and the sealer of the promoted server
    gives the new events the next positions.

Usage: python run.py PRIMARY_DSN STANDBY_DSN PROMOTE_COMMAND
"""

import pathlib
import subprocess
import sys
import time
import uuid

import psycopg

# check() and finish(), shared by the suites: tests/support/checks.py, found
# from this file's place (so that the suite also runs by hand).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, counts, finish  # noqa: E402

STREAMS = [f"acct-{i}" for i in range(20)]


def wait(what, fn, seconds=60):
    deadline = time.time() + seconds
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def snapshot(conn):
    """What a reader sees: events, states, exports and the feed."""
    streams = [s for s, in conn.execute(
        "SELECT stream_id FROM chronicle.list_streams(max_count => 1000)").fetchall()]
    events = {s: conn.execute(
        "SELECT version, event_id::text, event_type, data::text FROM chronicle.read_stream(%s)", [s]).fetchall()
        for s in streams}
    states = {s: conn.execute("SELECT chronicle.canonical_json(chronicle.state_at(%s))", [s]).fetchone()[0]
              for s in streams}
    exports = {s: [line for line, in conn.execute(
        "SELECT l FROM chronicle.export_stream(%s) l OFFSET 1", [s]).fetchall()] for s in streams}
    feed = conn.execute("SELECT global_position, event_id::text FROM chronicle.read_all(0, 100000)").fetchall()
    return streams, events, states, exports, feed


def main():
    primary_dsn, standby_dsn, promote = sys.argv[1:4]
    with psycopg.connect(primary_dsn, autocommit=True) as primary:
        primary.execute("SELECT chronicle.define_reducer('acct', '{\"on\": {\"Deposited\": "
                        "[{\"op\": \"increment\", \"path\": \"/balance\", \"from\": \"/data/amount\"}]}}')")
        committed = []
        for i in range(400):
            stream = STREAMS[i % len(STREAMS)]
            eid = str(uuid.uuid4())
            primary.execute("SELECT chronicle.append_event(%s, 'Deposited', %s::jsonb, event_id => %s)",
                            [stream, f'{{"amount": {i}.25}}', eid])
            committed.append(eid)
        # Personal data: sealed on the primary, opened on the standby.
        primary.execute("SELECT chronicle.define_personal_data('Registered', '/who', '{/email}')")
        for n in range(2):
            eid = str(uuid.uuid4())
            primary.execute("SELECT chronicle.append_event(%s, 'Registered', %s::jsonb, event_id => %s)",
                            [f"person-{n}", f'{{"who": "p-{n}", "email": "p{n}@example.org"}}', eid])
            committed.append(eid)
        # Sealed on the primary, and replayed on the standby.
        wait("the primary's sealer", lambda: primary.execute(
            "SELECT count(*) FROM chronicle.read_all(0, 100000)").fetchone()[0] >= len(committed))
        lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        with psycopg.connect(standby_dsn, autocommit=True) as standby:
            check("the standby is in recovery", standby.execute("SELECT pg_is_in_recovery()").fetchone()[0])
            wait("the standby to replay", lambda: standby.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0])
            on_primary = snapshot(primary)
            on_standby = snapshot(standby)
            names = ["streams", "events of every stream", "states (state_at)", "exports", "the feed (read_all)"]
            for name, p, s in zip(names, on_primary, on_standby):
                check(f"the standby reads the same {name}", p == s)
            check("the standby opens personal members", standby.execute(
                "SELECT data ->> 'email' FROM chronicle.read_stream('person-0')").fetchone()[0] == "p0@example.org")
            check("the feed on the standby holds every committed event", {
                e for _, e in on_standby[4]} >= set(committed))
            before = standby.execute("SELECT count(*) FROM chronicle.event_log").fetchone()[0]
            for what, sql in [
                ("append", "SELECT chronicle.append_event('acct-1', 'Deposited', '{\"amount\": 1}')"),
                ("create_subscription", "SELECT chronicle.create_subscription('on-standby')"),
                ("define_reducer", "SELECT chronicle.define_reducer('x', '{}')"),
                ("forget_subject", "SELECT chronicle.forget_subject('p-1')"),
            ]:
                try:
                    standby.execute(sql)
                    check(f"{what} on the standby is refused", False)
                except psycopg.Error as e:
                    if e.sqlstate != "25006":
                        print(f"  {what}: {e.sqlstate} {e}")
                    check(f"{what} on the standby is refused (25006)", e.sqlstate == "25006")
            check("the standby stored nothing", standby.execute(
                "SELECT count(*) FROM chronicle.event_log").fetchone()[0] == before)
            # Forgetting on the primary reaches the standby: its key is gone there too.
            primary.execute("SELECT chronicle.forget_subject('p-0', 'replica suite')")
            lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            wait("the standby to replay the forget", lambda: standby.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0])
            emails = [standby.execute("SELECT data -> 'email' FROM chronicle.read_stream(%s)", [f"person-{n}"])
                      .fetchone()[0] for n in range(2)]
            check("after a forget on the primary the standby reads the subject's members erased, the others opened",
                  emails == [{"erased": True}, "p1@example.org"], str(emails))
            state = standby.execute("SELECT chronicle.state_at('person-0')").fetchone()[0]
            check("the standby's state_at folds the erased member", state.get("email") == {"erased": True}, str(state))

    subprocess.run(promote, shell=True, check=True, stdout=subprocess.DEVNULL)
    with psycopg.connect(standby_dsn, autocommit=True) as promoted:
        wait("the promotion", lambda: not promoted.execute("SELECT pg_is_in_recovery()").fetchone()[0])
        ids = {e for e, in promoted.execute("SELECT event_id::text FROM chronicle.event_log").fetchall()}
        check("after promotion every event committed on the primary is there", set(committed) <= ids)
        head = promoted.execute("SELECT chronicle.stream_version('acct-1')").fetchone()[0]
        version = promoted.execute(
            "SELECT chronicle.append_event('acct-1', 'Deposited', '{\"amount\": 1}', expected_version => %s)",
            [head]).fetchone()[0]
        check("appends continue the stream's versions on the promoted server", version == head + 1)
        feed_head = len(on_primary[4])
        new = wait("the promoted server's sealer", lambda: promoted.execute(
            "SELECT global_position FROM chronicle.read_all(%s)", [feed_head]).fetchall())
        check("the promoted server seals the new event at the next position", [p for p, in new] == [feed_head + 1])
        check("states replay on the promoted server", promoted.execute(
            "SELECT chronicle.state_at('acct-1') ->> 'balance'").fetchone()[0] is not None)

    print(f"{len(committed)} events committed on the primary, 0 lost" if not counts()[1] else "")
    finish()


if __name__ == "__main__":
    main()
