"""A persistence module for the ``eventsourcing`` library (9.5): an
application's events stored in Chronicle.

    PERSISTENCE_MODULE=chronicle_eventstore.eventsourcing
    CHRONICLE_DSN="host=... dbname=... user=..."

How ``eventsourcing``'s model maps onto Chronicle's (README "eventsourcing"):

- an aggregate's events are a Chronicle stream: ``stream_id`` is
  ``<prefix>-<originator_id>`` (the prefix is the application's name in lower
  case, so applications sharing a database never share a stream), its
  ``stream_type`` the application's name; Chronicle's versions count from 1
  without gaps, the aggregate's ``originator_version`` is kept in the event's
  metadata and the two differ by a constant per stream (an aggregate may
  start at 0 or 1);
- a topic is the ``event_type`` when it is a valid type name, else a valid
  name derived from it (the topic itself then kept in metadata);
- ``StoredEvent.state`` (bytes, often compressed or encrypted) is kept
  losslessly: as text in ``data.state`` when it is UTF-8 (eventsourcing's
  JSON, readable in psql and the dashboard), else base64 in
  ``data.state_base64``;
- notification ids are Chronicle's global feed positions (dense and
  commit-safe: a follower never skips an event that commits late), filtered
  to the application's stream type; ``insert_events`` returns them, which
  means waiting for the sealer to hand them out (milliseconds);
- snapshots, which are a cache and not history, are kept in a table of
  their own (``<prefix>_snapshots``), as is tracking (``<prefix>_tracking``:
  the last notification id processed per upstream application), written in
  the transaction of the events it tracks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from contextlib import contextmanager
from threading import Condition, Event, Thread
from time import monotonic
from typing import TYPE_CHECKING, Any, Iterator, Sequence
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    DatabaseError,
    DataError,
    InfrastructureFactory,
    IntegrityError,
    InterfaceError,
    InternalError,
    ListenNotifySubscription,
    Notification,
    OperationalError,
    ProcessRecorder,
    ProgrammingError,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic, strtobool

if TYPE_CHECKING:
    from typing import TypeVar

    TChronicleTrackingRecorder = TypeVar("TChronicleTrackingRecorder", bound="ChronicleTrackingRecorder")

# A type name Chronicle accepts (shared/src/identifier.rs): a letter, then
# letters, digits and _ - . : /, at most 100 characters.
_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:/-]{0,99}")
_NOT_IN_TYPE_NAME = re.compile(r"[^A-Za-z0-9_.:/-]")


def event_type_of(topic: str) -> str:
    """Chronicle's ``event_type`` for an eventsourcing topic: the topic when
    it is a valid type name, else its valid characters with the others as
    ``_``, cut to 83 characters, and 16 hex digits of its SHA-256 (so two
    topics never share one)."""
    if _TYPE_NAME.fullmatch(topic):
        return topic
    digest = hashlib.sha256(topic.encode()).hexdigest()[:16]
    name = _NOT_IN_TYPE_NAME.sub("_", topic)
    if not name[:1].isalpha():
        name = "t" + name
    return f"{name[:83]}.{digest}"


def _data_of(state: bytes) -> dict[str, str]:
    try:
        text = state.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return {"state": text}
    return {"state_base64": base64.b64encode(state).decode("ascii")}


def _state_of(text: str | None, encoded: str | None) -> bytes:
    if text is not None:
        return text.encode("utf-8")
    if encoded is None:
        msg = "an event without data.state or data.state_base64 (not written by this module)"
        raise DataError(msg)
    return base64.b64decode(encoded)


@contextmanager
def _translated() -> Iterator[None]:
    """psycopg's and Chronicle's errors as eventsourcing's: a version
    conflict (40001) or a stored event id (23505) is an IntegrityError."""
    try:
        yield
    except psycopg.Error as e:
        state = e.sqlstate or ""
        text = str(e)
        if state in ("40001", "23505") or state.startswith("23") and state != "23514":
            raise IntegrityError(text) from e
        if state.startswith(("22", "54")) or state == "23514":
            raise DataError(text) from e
        if state.startswith("42"):
            raise ProgrammingError(text) from e
        if state.startswith(("08", "53", "55", "57")) or isinstance(e, psycopg.OperationalError):
            raise OperationalError(text) from e
        if state.startswith(("XX", "25")):
            raise InternalError(text) from e
        if isinstance(e, psycopg.InterfaceError):
            raise InterfaceError(text) from e
        raise DatabaseError(text) from e


class SealWatcher:
    """One connection per datastore listening on ``chronicle``: counts the
    sealer's notifications, so that inserts waiting for their positions
    wake when a seal commits (the pool's connections do not listen: each
    listening session would read every notification of the database)."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._seals = 0
        self._changed = Condition()
        self._closed = False
        self._thread: Thread | None = None

    def seals(self) -> int:
        """How many notifications were seen so far (starts the listener)."""
        with self._changed:
            if self._thread is None and not self._closed:
                self._thread = Thread(target=self._listen, name="chronicle seal watcher", daemon=True)
                self._thread.start()
            return self._seals

    def wait(self, seen: int, timeout: float) -> bool:
        """Returns once a notification after the ``seen``-th came (True), or
        after ``timeout`` seconds (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._seals > seen, timeout)

    def _listen(self) -> None:
        while not self._closed:
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute("LISTEN chronicle")
                    self._bump()  # seals before LISTEN were missed: look again
                    while not self._closed:
                        for _ in conn.notifies(timeout=0.2):
                            self._bump()
            except psycopg.Error:
                if not self._closed:
                    Event().wait(0.1)  # the server went away: the waiters poll meanwhile

    def _bump(self) -> None:
        with self._changed:
            self._seals += 1
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()


class ChronicleDatastore:
    """The connection pool the recorders of one factory share, and the
    watcher of seals their inserts wait on."""

    def __init__(
        self,
        conninfo: str,
        pool_size: int = 5,
        max_overflow: int = 10,
        schema: str = "",
        originator_id_type: str = "uuid",
        positions_timeout: float = 30.0,
    ) -> None:
        if originator_id_type not in ("uuid", "text"):
            msg = f"ORIGINATOR_ID_TYPE must be 'uuid' or 'text', not {originator_id_type!r}"
            raise OSError(msg)
        self.conninfo = conninfo
        self.schema = schema
        self.originator_id_type = originator_id_type
        self.positions_timeout = positions_timeout
        self.seal_watcher = SealWatcher(conninfo)
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size + max_overflow,
            kwargs={"autocommit": True},
            configure=self._configure,
            open=True,
        )

    @staticmethod
    def _configure(conn: psycopg.Connection[Any]) -> None:
        # The module's statements are prepared (psycopg does it at the fifth
        # use); planning the positions' query through chronicle.events each
        # time cost more than running it.
        conn.execute("SET plan_cache_mode = force_generic_plan")

    def table(self, name: str) -> sql.Composable:
        if self.schema:
            return sql.Identifier(self.schema, name)
        return sql.Identifier(name)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        with _translated(), self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self.seal_watcher.close()
        self.pool.close()


# One statement appends to every aggregate of an insert (all or nothing,
# also in autocommit), each at the version of its stream's head moved by as
# many versions as its first new originator_version is past the head's (0
# for a new stream; a version at or below the head, or a gap, conflicts).
_APPEND = """
SELECT v.stream_id, chronicle.append_events(v.stream_id, v.events::jsonb,
         expected_version => greatest(coalesce(
             (SELECT e.version + v.first - 1 - (e.metadata->>'originator_version')::bigint
                FROM chronicle.events e
               WHERE e.stream_id = v.stream_id AND e.version > 0
               ORDER BY e.version DESC LIMIT 1), 0), 0),
         stream_type => %s)
  FROM (VALUES {}) AS v(stream_id, events, first)
"""
_APPEND_ROW = "(%s::text, %s::text, %s::bigint)"

_SELECT = """
WITH head AS (
    SELECT e.version - (e.metadata->>'originator_version')::bigint AS shift, e.version AS version
      FROM chronicle.events e
     WHERE e.stream_id = %(stream_id)s AND e.version > 0
     ORDER BY e.version DESC LIMIT 1),
bounds AS (
    SELECT greatest(coalesce(%(gt)s::bigint + 1 + h.shift, 1), 1) AS low,
           least(coalesce(%(lte)s::bigint + h.shift, h.version), h.version) AS high,
           h.shift
      FROM head h),
range AS (
    SELECT CASE WHEN %(limit)s::bigint IS NOT NULL AND %(desc)s
                THEN greatest(b.low, b.high - %(limit)s::bigint + 1) ELSE b.low END AS first,
           CASE WHEN %(limit)s::bigint IS NOT NULL AND NOT %(desc)s
                THEN least(b.high, b.low + %(limit)s::bigint - 1) ELSE b.high END AS last,
           b.shift
      FROM bounds b)
SELECT r.version - b.shift, r.event_type, r.data->>'state', r.data->>'state_base64', r.metadata->>'topic'
  FROM range b
 CROSS JOIN LATERAL chronicle.read_stream(%(stream_id)s, b.first, greatest(b.last, b.first)) r
 WHERE r.version <= b.last
"""

# A probe of (stream_id, version) per stream (OFFSET 0 keeps it a probe: as
# a join, a generic plan made on a small log could scan the whole log).
_POSITIONS = """
SELECT w.stream_id, e.version, e.global_position
  FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS w(stream_id, first, last)
 CROSS JOIN LATERAL (SELECT e.version, e.global_position FROM chronicle.events e
                      WHERE e.stream_id = w.stream_id AND e.version BETWEEN w.first AND w.last OFFSET 0) e
"""

_NOTIFICATIONS = """
SELECT r.global_position, r.stream_id, r.event_type, r.data->>'state', r.data->>'state_base64',
       r.metadata->>'topic', (r.metadata->>'originator_version')::bigint
  FROM chronicle.read_all(%(after)s, %(max_count)s, %(stream_type)s, %(event_types)s) r
 WHERE %(stop)s::bigint IS NULL OR r.global_position <= %(stop)s::bigint
 ORDER BY r.global_position
"""


class ChronicleAggregateRecorder(AggregateRecorder):
    """An aggregate's events as a Chronicle stream (see the module's text)."""

    def __init__(self, datastore: ChronicleDatastore, stream_type: str) -> None:
        self.datastore = datastore
        self.stream_type = stream_type
        self.prefix = stream_type.lower()

    def create_table(self) -> None:
        """Nothing to create: Chronicle's tables are the extension's."""

    def stream_id(self, originator_id: UUID | str) -> str:
        return f"{self.prefix}-{originator_id}"

    def originator_id(self, stream_id: str) -> UUID | str:
        raw = stream_id[len(self.prefix) + 1 :]
        return UUID(raw) if self.datastore.originator_id_type == "uuid" else raw

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.connection() as conn:
            self._insert(conn, stored_events)
        return None

    def _insert(self, conn: psycopg.Connection[Any], stored_events: Sequence[StoredEvent]) -> list[tuple[str, int]]:
        """Appends the events in one statement (one append_events per
        aggregate); returns each event's stream and Chronicle version, in
        the given order."""
        groups: dict[str, list[StoredEvent]] = {}
        for stored in stored_events:
            groups.setdefault(self.stream_id(stored.originator_id), []).append(stored)
        params: list[Any] = []
        for stream_id, group in groups.items():
            first = group[0].originator_version
            events = []
            for i, stored in enumerate(group):
                if stored.originator_version != first + i:
                    msg = (
                        f"originator_version {stored.originator_version} of {stored.originator_id} "
                        f"does not follow {first + i - 1} in this insert: an aggregate's versions "
                        "are stored without gaps or repeats"
                    )
                    raise IntegrityError(msg)
                event_type = event_type_of(stored.topic)
                metadata: dict[str, Any] = {"originator_version": stored.originator_version}
                if event_type != stored.topic:
                    metadata["topic"] = stored.topic
                events.append({"event_type": event_type, "data": _data_of(stored.state), "metadata": metadata})
            params += [stream_id, json.dumps(events), first]
        if not groups:
            return []
        statement = _APPEND.format(", ".join([_APPEND_ROW] * len(groups)))
        heads = dict(conn.execute(statement, [self.stream_type, *params]).fetchall())
        # The events of a stream are the versions up to its new head.
        seen: dict[str, int] = {}
        keys = []
        for stored in stored_events:
            stream_id = self.stream_id(stored.originator_id)
            i = seen.get(stream_id, 0)
            seen[stream_id] = i + 1
            keys.append((stream_id, heads[stream_id] - len(groups[stream_id]) + 1 + i))
        return keys

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        query = _SELECT + (" ORDER BY r.version DESC" if desc else " ORDER BY r.version") + " LIMIT %(limit)s"
        params = {"stream_id": self.stream_id(originator_id), "gt": gt, "lte": lte, "desc": desc, "limit": limit}
        with self.datastore.connection() as conn:
            rows = conn.execute(query, params).fetchall()
        return [
            StoredEvent(
                originator_id=originator_id,
                originator_version=version,
                topic=topic or event_type,
                state=_state_of(text, encoded),
            )
            for version, event_type, text, encoded, topic in rows
        ]


class ChronicleApplicationRecorder(ChronicleAggregateRecorder, ApplicationRecorder):
    """Events and their notifications: the application's events in
    Chronicle's global feed."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        seen = self.datastore.seal_watcher.seals()
        with self.datastore.connection() as conn:
            keys = self._write(conn, stored_events, **kwargs)
        return self._positions(keys, seen)

    def _write(
        self, conn: psycopg.Connection[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> list[tuple[str, int]]:
        """Commits the events (the process recorder adds its tracking)."""
        return self._insert(conn, stored_events)

    def _positions(self, keys: list[tuple[str, int]], seen: int) -> list[int]:
        """The global positions of the events just committed (by stream and
        version), once the sealer has handed them out: read after each seal
        notified since ``seen`` (the count before the write), or every 50 ms,
        on any connection of the pool (a lost one does not lose them)."""
        if not keys:
            return []
        ranges: dict[str, list[int]] = {}
        for stream_id, version in keys:
            low_high = ranges.setdefault(stream_id, [version, version])
            low_high[0], low_high[1] = min(low_high[0], version), max(low_high[1], version)
        params = [list(ranges), [r[0] for r in ranges.values()], [r[1] for r in ranges.values()]]
        watcher = self.datastore.seal_watcher
        deadline = monotonic() + self.datastore.positions_timeout
        while True:
            watcher.wait(seen, 0.05)
            seen = watcher.seals()
            try:
                with self.datastore.connection() as conn:
                    rows = conn.execute(_POSITIONS, params).fetchall()
            except OperationalError:
                rows = []  # the events are committed: ask again on another connection
            positions = {(stream_id, version): position for stream_id, version, position in rows}
            found = [positions.get(key) for key in keys]
            if None not in found:
                return found  # type: ignore[return-value]
            if monotonic() > deadline:
                msg = (
                    f"the events are stored but had no global position after {self.datastore.positions_timeout} s "
                    "(do not insert them again): is the sealer running, or an open transaction that appended "
                    "holding the feed back? (SELECT * FROM chronicle.feed_status)"
                )
                raise OperationalError(msg)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        after = start or 0
        if start is not None and inclusive_of_start:
            after = max(start - 1, 0)
        max_count = limit
        if stop is not None:
            if stop <= after:
                return []
            max_count = min(limit, stop - after)  # positions are dense
        params = {
            "after": after,
            "max_count": max_count,
            "stream_type": self.stream_type,
            "event_types": [event_type_of(t) for t in topics] if topics else None,
            "stop": stop,
        }
        with self.datastore.connection() as conn:
            rows = conn.execute(_NOTIFICATIONS, params).fetchall()
        notifications = []
        for position, stream_id, event_type, text, encoded, topic, version in rows:
            topic = topic or event_type
            if topics and topic not in topics:
                continue  # another topic with the same derived event_type
            notifications.append(
                Notification(
                    id=position,
                    originator_id=self.originator_id(stream_id),
                    originator_version=version,
                    topic=topic,
                    state=_state_of(text, encoded),
                )
            )
        return notifications

    def max_notification_id(self) -> int | None:
        """The application's last position in the feed: looked for in
        windows back from the feed's head (the first window holds it when the
        application has the database to itself)."""
        with self.datastore.connection() as conn:
            head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]  # type: ignore[index]
            window = 1000
            while head > 0:
                after = max(head - window, 0)
                found = conn.execute(
                    "SELECT max(global_position) FROM chronicle.read_all(%s, %s, %s)",
                    (after, head - after, self.stream_type),
                ).fetchone()[0]  # type: ignore[index]
                if found is not None:
                    return found
                head = after
                window = min(window * 8, 1_000_000)
        return None

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        return ChronicleSubscription(recorder=self, gt=gt, topics=topics)


class ChronicleSubscription(ListenNotifySubscription[ChronicleApplicationRecorder]):
    """Notifications as they are sealed: pulls again whenever the datastore's
    seal watcher sees a seal (one LISTEN connection per datastore), and at
    least once a second (a seal it could not hear: chronicle.notify set to
    commit or off, a reconnection)."""

    def __init__(self, recorder: ChronicleApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._listen_thread = Thread(target=self._listen, daemon=True)
        self._listen_thread.start()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._listen_thread.join()

    def _listen(self) -> None:
        watcher = self._recorder.datastore.seal_watcher
        seen = watcher.seals()
        self._has_been_notified.set()  # a seal before the watcher listened: pull once
        quiet_since = monotonic()
        while not self._has_been_stopped and not self._thread_error:
            if watcher.wait(seen, 0.1) or monotonic() - quiet_since >= 1.0:
                seen = watcher.seals()
                quiet_since = monotonic()
                self._has_been_notified.set()


class ChronicleTrackingRecorder(TrackingRecorder):
    """The last notification id processed per upstream application, one
    row each in ``<prefix>_tracking``; a tracking id must be above the
    recorded one (IntegrityError otherwise)."""

    def __init__(self, datastore: ChronicleDatastore, tracking_table_name: str) -> None:
        self.datastore = datastore
        self.tracking_table = datastore.table(tracking_table_name)

    def create_table(self) -> None:
        with self.datastore.connection() as conn:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (application_name text PRIMARY KEY, "
                    "notification_id bigint NOT NULL)"
                ).format(self.tracking_table)
            )

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.datastore.connection() as conn, conn.transaction():
            self._insert_tracking(conn, tracking)

    def _insert_tracking(self, conn: psycopg.Connection[Any], tracking: Tracking) -> None:
        stored = conn.execute(
            sql.SQL(
                "INSERT INTO {0} AS t (application_name, notification_id) VALUES (%s, %s) "
                "ON CONFLICT (application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id "
                "WHERE t.notification_id < EXCLUDED.notification_id RETURNING 1"
            ).format(self.tracking_table),
            (tracking.application_name, tracking.notification_id),
        ).fetchone()
        if stored is None:
            msg = (
                f"tracking {tracking.notification_id} of {tracking.application_name!r} "
                "is not above the one recorded"
            )
            raise IntegrityError(msg)

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.datastore.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT notification_id FROM {} WHERE application_name = %s").format(self.tracking_table),
                (application_name,),
            ).fetchone()
        return row[0] if row else None


class ChronicleProcessRecorder(ChronicleTrackingRecorder, ChronicleApplicationRecorder, ProcessRecorder):
    """An application recorder whose inserts record their tracking in the
    same transaction."""

    def __init__(self, datastore: ChronicleDatastore, stream_type: str, tracking_table_name: str) -> None:
        ChronicleApplicationRecorder.__init__(self, datastore, stream_type)
        ChronicleTrackingRecorder.__init__(self, datastore, tracking_table_name)

    def _write(
        self, conn: psycopg.Connection[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> list[tuple[str, int]]:
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is None:
            return self._insert(conn, stored_events)
        with conn.transaction():
            self._insert_tracking(conn, tracking)
            return self._insert(conn, stored_events)


class ChronicleSnapshotRecorder(AggregateRecorder):
    """Snapshots in a table of their own (``<prefix>_snapshots``): they are
    a cache of an aggregate's state, taken at any version, not history, so
    they take no place in the feed."""

    def __init__(self, datastore: ChronicleDatastore, table_name: str) -> None:
        self.datastore = datastore
        self.table = datastore.table(table_name)

    def create_table(self) -> None:
        with self.datastore.connection() as conn:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (originator_id text NOT NULL, originator_version bigint NOT NULL, "
                    "topic text NOT NULL, state bytea NOT NULL, PRIMARY KEY (originator_id, originator_version))"
                ).format(self.table)
            )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(
                sql.SQL(
                    "INSERT INTO {} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
                ).format(self.table),
                [(str(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events],
            )
        return None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        query = sql.SQL(
            "SELECT originator_version, topic, state FROM {} WHERE originator_id = %s "
            "AND (%s::bigint IS NULL OR originator_version > %s) AND (%s::bigint IS NULL OR originator_version <= %s) "
            "ORDER BY originator_version {} LIMIT %s"
        ).format(self.table, sql.SQL("DESC" if desc else "ASC"))
        with self.datastore.connection() as conn:
            rows = conn.execute(query, (str(originator_id), gt, gt, lte, lte, limit)).fetchall()
        return [
            StoredEvent(originator_id=originator_id, originator_version=v, topic=t, state=bytes(s))
            for v, t, s in rows
        ]


class Factory(InfrastructureFactory[ChronicleTrackingRecorder]):
    """The infrastructure of an application on Chronicle. Environment:
    ``CHRONICLE_DSN`` (a libpq connection string; empty: libpq's PG*
    variables), ``CHRONICLE_POOL_SIZE`` (5) and ``CHRONICLE_MAX_OVERFLOW``
    (10), ``CHRONICLE_SCHEMA`` (of the snapshot and tracking tables; default:
    the search path), ``CHRONICLE_STREAM_TYPE`` (default: the application's
    name, else ``eventsourcing``), ``ORIGINATOR_ID_TYPE`` (``uuid`` or
    ``text``), ``CHRONICLE_POSITIONS_TIMEOUT`` (seconds insert_events waits
    for positions, 30), ``CREATE_TABLE`` (``y``)."""

    CHRONICLE_DSN = "CHRONICLE_DSN"
    CHRONICLE_POOL_SIZE = "CHRONICLE_POOL_SIZE"
    CHRONICLE_MAX_OVERFLOW = "CHRONICLE_MAX_OVERFLOW"
    CHRONICLE_SCHEMA = "CHRONICLE_SCHEMA"
    CHRONICLE_STREAM_TYPE = "CHRONICLE_STREAM_TYPE"
    CHRONICLE_POSITIONS_TIMEOUT = "CHRONICLE_POSITIONS_TIMEOUT"
    ORIGINATOR_ID_TYPE = "ORIGINATOR_ID_TYPE"
    CREATE_TABLE = "CREATE_TABLE"

    aggregate_recorder_class = ChronicleAggregateRecorder
    application_recorder_class = ChronicleApplicationRecorder
    tracking_recorder_class = ChronicleTrackingRecorder
    process_recorder_class = ChronicleProcessRecorder
    snapshot_recorder_class = ChronicleSnapshotRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        self.datastore = ChronicleDatastore(
            conninfo=self.env.get(self.CHRONICLE_DSN) or "",
            pool_size=self._int(self.CHRONICLE_POOL_SIZE, 5),
            max_overflow=self._int(self.CHRONICLE_MAX_OVERFLOW, 10),
            schema=self.env.get(self.CHRONICLE_SCHEMA) or "",
            originator_id_type=(self.env.get(self.ORIGINATOR_ID_TYPE) or "uuid").lower(),
            positions_timeout=float(self._int(self.CHRONICLE_POSITIONS_TIMEOUT, 30)),
        )

    def _int(self, key: str, default: int) -> int:
        value = self.env.get(key)
        if not value:
            return default
        try:
            return int(value)
        except ValueError:
            msg = f"environment value for key '{key}' is not an integer: {value!r}"
            raise OSError(msg) from None

    def stream_type(self) -> str:
        return self.env.get(self.CHRONICLE_STREAM_TYPE) or self.env.name or "eventsourcing"

    def _prefix(self) -> str:
        return self.stream_type().lower()

    def env_create_table(self) -> bool:
        return strtobool(self.env.get(self.CREATE_TABLE) or "yes")

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        recorder: AggregateRecorder
        if purpose == "events":
            recorder = type(self).aggregate_recorder_class(self.datastore, self.stream_type())
        else:
            recorder = type(self).snapshot_recorder_class(self.datastore, f"{self._prefix()}_{purpose}")
            if self.env_create_table():
                recorder.create_table()
        return recorder

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else type(self).application_recorder_class
        assert issubclass(cls, ChronicleApplicationRecorder)
        return cls(self.datastore, self.stream_type())

    def tracking_recorder(
        self, tracking_recorder_class: type[TChronicleTrackingRecorder] | None = None
    ) -> TChronicleTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            tracking_recorder_class = resolve_topic(topic) if topic else type(self).tracking_recorder_class  # type: ignore[assignment]
        assert tracking_recorder_class is not None
        assert issubclass(tracking_recorder_class, ChronicleTrackingRecorder)
        recorder = tracking_recorder_class(self.datastore, tracking_table_name=f"{self._prefix()}_tracking")
        if self.env_create_table():
            recorder.create_table()
        return recorder  # type: ignore[return-value]

    def process_recorder(self) -> ProcessRecorder:
        topic = self.env.get(self.PROCESS_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else type(self).process_recorder_class
        assert issubclass(cls, ChronicleProcessRecorder)
        recorder = cls(self.datastore, self.stream_type(), f"{self._prefix()}_tracking")
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def close(self) -> None:
        super().close()
        self.datastore.close()
