"""Seed document 004: a JSON-lines file store (one `<aggregate_id>.events.jsonl`
per aggregate and an index.json), an EventReplay and a ReadModelProjector.

The store below is the document's, writing the files exactly as it does
(one DomainEvent JSON per line). Its history moves into Chronicle with
import_stream(file, format => 'domain-events'); then each of its reads is
compared with Chronicle's:

    load_events(id, from_version=n)       -> read_stream(id, from_version => n + 1)
                                             (the document skips the first n events)
    EventReplay.replay_events(id, v)      -> read_stream(id, to_version => v)
    index.json event_count                -> chronicle.streams.version
    ReadModelProjector.register(type, fn) -> a subscription with event_types, poll and ack
"""

import json
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from common import check, connect, seal
from domain import DomainEvent


@dataclass
class UserRegisteredEvent(DomainEvent):
    username: str = ""
    email: str = ""
    role: str = "user"


@dataclass
class UserEmailChangedEvent(DomainEvent):
    email: str = ""


@dataclass
class UserRoleChangedEvent(DomainEvent):
    role: str = ""


@dataclass
class UserDeactivatedEvent(DomainEvent):
    reason: str = ""


def to_json(event):
    """DomainEvent.to_json: to_dict() as JSON (a UUID aggregate id as its text)."""
    return json.dumps(event.to_dict(), default=str)


class EventStore:
    """The document's infrastructure/event_store/event_store.py."""

    def __init__(self, storage_dir):
        self.storage_dir = Path(storage_dir)
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.index_file = self.storage_dir / "index.json"
        if not self.index_file.exists():
            with open(self.index_file, 'w') as f:
                json.dump({"aggregates": {}, "total_events": 0}, f)

    def append_event(self, event):
        with open(self._get_stream_file(event.aggregate_id), 'a') as f:
            f.write(to_json(event) + '\n')
        self._update_index(event)

    def load_events(self, aggregate_id, from_version=0):
        stream_file = self._get_stream_file(aggregate_id)
        if not stream_file.exists():
            return []
        with open(stream_file) as f:
            events = [json.loads(line) for line in f]
        if from_version > 0:
            events = events[from_version:]
        return events

    def _get_stream_file(self, aggregate_id):
        return self.storage_dir / f"{aggregate_id}.events.jsonl"

    def _update_index(self, event):
        with open(self.index_file) as f:
            index = json.load(f)
        agg_id = str(event.aggregate_id)
        entry = index["aggregates"].setdefault(agg_id, {"event_count": 0, "last_event_at": None})
        entry["event_count"] += 1
        entry["last_event_at"] = event.occurred_at.isoformat()
        index["total_events"] += 1
        with open(self.index_file, 'w') as f:
            json.dump(index, f, indent=2)


class ReadModelProjector:
    """The document's infrastructure/projections/read_model_projector.py."""

    def __init__(self):
        self._projections = {}

    def register(self, event_type, projection):
        self._projections[event_type] = projection

    def project(self, event):
        projection = self._projections.get(event["event_type"])
        if projection:
            projection(event)


def users_read_model():
    """A read model of users, and the projector that fills it."""
    users = {}
    projector = ReadModelProjector()
    projector.register("UserRegisteredEvent", lambda e: users.__setitem__(
        e["aggregate_id"], {"username": e["data"]["username"], "email": e["data"]["email"]}))
    projector.register("UserEmailChangedEvent", lambda e: users[e["aggregate_id"]].__setitem__(
        "email", e["data"]["email"]))
    return users, projector


def write_history(directory):
    """Three users' histories, written by the document's store."""
    store = EventStore(directory)
    start = datetime(2024, 5, 1, 9, 0, 0, 123456)
    ann, bob, cyd = (uuid.uuid4() for _ in range(3))
    flow = [
        UserRegisteredEvent(username="ann", email="ann@example.com", aggregate_id=ann, execution_id="exec-signup-1"),
        UserRegisteredEvent(username="bob", email="bob@example.com", aggregate_id=bob, execution_id="exec-signup-2"),
        UserEmailChangedEvent(email="ann@work.example", aggregate_id=ann, user_id="ann"),
        UserRoleChangedEvent(role="admin", aggregate_id=ann, user_id="root", event_version=2),
        UserRegisteredEvent(username="cyd", email="cyd@example.com", aggregate_id=cyd),
        UserEmailChangedEvent(email="ann@home.example", aggregate_id=ann, user_id="ann"),
        UserDeactivatedEvent(reason="left", aggregate_id=cyd, user_id="root"),
    ]
    for i, e in enumerate(flow):
        e.occurred_at = start + timedelta(minutes=i)
        store.append_event(e)
    return store, [ann, bob, cyd], flow


def run():
    with tempfile.TemporaryDirectory() as directory, connect() as conn:
        store, users, flow = write_history(directory)
        files = sorted(Path(directory).glob("*.events.jsonl"))
        check("004: the store wrote one file per aggregate and an index", len(files) == 3
              and (Path(directory) / "index.json").exists())
        imported = {}
        for path in files:
            imported[path.name] = conn.execute(
                "SELECT chronicle.import_stream(%s, format => 'domain-events')", [path.read_text()]).fetchone()[0]
        index = json.loads((Path(directory) / "index.json").read_text())
        heads = dict(conn.execute("SELECT stream_id, version FROM chronicle.streams").fetchall())
        check("004: each file imports as a stream; its version is index.json's event_count",
              {k: v["event_count"] for k, v in index["aggregates"].items()} == heads, f"{index}\n{heads}")
        check("004: the streams are of type User (aggregate_type)",
              conn.execute("SELECT array_agg(DISTINCT stream_type) FROM chronicle.streams").fetchone()[0] == ["User"])

        def chronicle_events(agg, **range_):
            args = ", ".join(f"{k} => %s" for k in range_)
            rows = conn.execute(
                "SELECT event_id::text, event_type, schema_version, stream_id, stream_type, correlation_id, actor, "
                "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), data "
                f"FROM chronicle.read_stream(%s{', ' + args if args else ''})",
                [agg, *range_.values()]).fetchall()
            keys = ["event_id", "event_type", "event_version", "aggregate_id", "aggregate_type", "execution_id",
                    "user_id", "occurred_at", "data"]
            return [dict(zip(keys, row)) for row in rows]

        for agg in users:
            check(f"004: load_events({str(agg)[:8]}…) equals read_stream: ids, types, versions, data, times",
                  store.load_events(agg) == chronicle_events(str(agg)),
                  f"{store.load_events(agg)}\n{chronicle_events(str(agg))}")
        ann = users[0]
        check("004: load_events(from_version=2) skips two events: read_stream(from_version => 3)",
              store.load_events(ann, from_version=2) == chronicle_events(str(ann), from_version=3)
              and len(store.load_events(ann, from_version=2)) == 2)
        check("004: replay_events(to_version=2) is read_stream(to_version => 2)",
              store.load_events(ann)[:2] == chronicle_events(str(ann), to_version=2))
        check("004: psycopg's uuid reads the same stream", conn.execute(
            "SELECT count(*) FROM chronicle.read_stream(%s)", [ann]).fetchone()[0] == 4)
        check("004: execution ids are correlation ids",
              [r[0] for r in conn.execute("SELECT stream_id FROM chronicle.read_correlation('exec-signup-2')")]
              == [str(users[1])])

        # The read model, fed from the files by the document's projector, and
        # from Chronicle by a subscription of the same event types.
        from_files, projector = users_read_model()
        for e in sorted((e for agg in users for e in store.load_events(agg)), key=lambda e: e["occurred_at"]):
            projector.project(e)
        from_chronicle, projector = users_read_model()
        conn.execute("SELECT chronicle.create_subscription('users', "
                     "event_types => ARRAY['UserRegisteredEvent', 'UserEmailChangedEvent'])")
        seal(conn)
        rows = conn.execute("SELECT global_position, stream_id, event_type, data FROM chronicle.poll('users')").fetchall()
        for _position, stream_id, event_type, data in rows:
            projector.project({"aggregate_id": stream_id, "event_type": event_type, "data": data})
        conn.execute("SELECT chronicle.ack('users', %s)", [rows[-1][0]])
        more = conn.execute("SELECT count(*) FROM chronicle.poll('users')").fetchone()[0]
        check("004: after the ack the projection is caught up (poll has nothing more)", more == 0, str(more))
        check("004: the subscription delivers only the projected event types (5 of 7)", len(rows) == 5, str(rows))
        check("004: the projection fed by Chronicle equals the one fed by the files",
              from_chronicle == from_files and from_files[str(ann)]["email"] == "ann@home.example",
              f"{from_chronicle}\n{from_files}")
