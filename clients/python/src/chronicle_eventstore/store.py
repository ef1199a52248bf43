"""The blocking event store: ``EventStore`` over a psycopg connection pool,
its transactions, and ``Subscription``, the poll/ack loop that sleeps on
``LISTEN chronicle``."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Union

import psycopg
from psycopg_pool import ConnectionPool

from . import calls
from .calls import Call
from .errors import AlreadyExists, from_psycopg
from .events import JSON, NewEvent, RecordedEvent

EventsArg = Sequence[Union[NewEvent, Mapping[str, JSON]]]


def execute(conn: psycopg.Connection[Any], call: Call) -> Any:
    """Runs a call on a connection; a rejection becomes a ChronicleError."""
    try:
        rows = conn.execute(call.sql, call.params).fetchall()
    except psycopg.Error as e:
        if e.sqlstate is None:
            raise
        raise from_psycopg(e) from e
    return call.result(rows)


def connect_arguments(pool: ConnectionPool) -> tuple[str, dict[str, Any]]:
    """The connection string and arguments a pool connects with (either may
    be a function), for a connection of the subscription's own."""
    conninfo = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
    kwargs = pool.kwargs() if callable(pool.kwargs) else pool.kwargs
    return conninfo, dict(kwargs or {})


class _Api:
    """Chronicle's calls; subclasses say where they run (``_run``)."""

    def _run(self, call: Call) -> Any:
        raise NotImplementedError

    def append(
        self,
        stream_id: str,
        events: EventsArg,
        expected_version: Optional[int] = None,
        stream_type: Optional[str] = None,
    ) -> int:
        """Appends events to a stream, all or none, and returns the stream's
        new version. ``expected_version``: None appends at any version, 0
        only to a new stream, N only to a stream at N (else
        ``ConcurrencyError``)."""
        return self._run(calls.append(stream_id, events, expected_version, stream_type))

    def read_stream(
        self, stream_id: str, from_version: int = 1, to_version: Optional[int] = None, upcast: bool = False
    ) -> list[RecordedEvent]:
        """A stream's events from ``from_version`` to ``to_version``
        (inclusive; None: the head), in version order; [] for a missing
        stream."""
        return self._run(calls.read_stream(stream_id, from_version, to_version, upcast))

    def read_correlation(self, correlation_id: str) -> list[RecordedEvent]:
        """The events of every stream with this correlation id, in feed order."""
        return self._run(calls.read_correlation(correlation_id))

    def stream_version(self, stream_id: str) -> int:
        """The stream's version; 0 if it has no events."""
        return self._run(calls.stream_version(stream_id))

    def exists(self, stream_id: str) -> bool:
        """Whether the stream has events."""
        return self._run(calls.exists(stream_id))

    def state_at(
        self, stream_id: str, to_version: Optional[int] = None, as_of: Optional[datetime] = None
    ) -> JSON:
        """The stream's state folded by its type's reducer, at a version, a
        time, or the head (``NotFound`` for a missing stream)."""
        return self._run(calls.state_at(stream_id, to_version, as_of))

    def read_all(
        self,
        after_position: int = 0,
        max_count: int = 1000,
        stream_type: Optional[str] = None,
        event_types: Optional[Sequence[str]] = None,
    ) -> list[RecordedEvent]:
        """The global feed after ``after_position``: committed events in
        ``global_position`` order (dense and commit-safe)."""
        return self._run(calls.read_all(after_position, max_count, stream_type, event_types))

    def feed_head(self) -> int:
        """The last global position handed out (0: none)."""
        return self._run(calls.feed_head())


class EventStore(_Api):
    """Chronicle from Python. ``source`` is a connection string or a
    ``psycopg_pool.ConnectionPool`` (then the caller owns and closes it)."""

    def __init__(self, source: Union[str, ConnectionPool], pool_size: int = 4) -> None:
        if isinstance(source, ConnectionPool):
            self.pool = source
            self._owns_pool = False
        else:
            self.pool = ConnectionPool(
                source, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True
            )
            self._owns_pool = True

    def close(self) -> None:
        if self._owns_pool:
            self.pool.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, call: Call) -> Any:
        with self.pool.connection() as conn:
            return execute(conn, call)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction: every call on what it yields commits together, or
        none does (an exception rolls back). ``.connection`` is its psycopg
        connection, for your own tables in the same transaction."""
        with self.pool.connection() as conn, conn.transaction():
            yield Transaction(conn)

    def subscribe(
        self,
        name: str,
        *,
        stream_type: Optional[str] = None,
        event_types: Optional[Sequence[str]] = None,
        after_position: int = 0,
        create: bool = True,
        max_count: int = 500,
        consumer: int = 0,
        consumers: int = 1,
        until_caught_up: bool = False,
    ) -> Subscription:
        """A follower of subscription ``name`` (created with the filter and
        start given, unless it exists). Iterate it, or ``run(handler)``."""
        if create:
            try:
                self._run(calls.create_subscription(name, stream_type, event_types, after_position))
            except AlreadyExists:
                pass
        return Subscription(self, calls.Follower(name, max_count, consumer, consumers, until_caught_up))


class Transaction(_Api):
    """The calls of one transaction (``EventStore.transaction()``)."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def _run(self, call: Call) -> Any:
        return execute(self.connection, call)


class Subscription:
    """At-least-once delivery of a subscription's events.

    Iterating yields events one by one; a batch is acknowledged when the
    next one is asked for, so a crash mid-batch delivers that batch again.
    ``run(handler)`` calls ``handler(event, transaction)`` and acknowledges
    each batch in the transaction that handled it (for a read model in the
    same database, exactly-once effects). Both wait on ``LISTEN chronicle``
    when there is nothing to do; ``stop()`` (from any thread) ends them, as
    does reaching the head with ``until_caught_up``."""

    def __init__(self, store: EventStore, follower: calls.Follower) -> None:
        self.store = store
        self.follower = follower
        self._stopped = threading.Event()
        self._listener: Optional[psycopg.Connection[Any]] = None

    def stop(self) -> None:
        """Ends the iteration or ``run`` at its next wait (within a quarter
        of a second if it waits now); a batch being iterated is not
        acknowledged."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._close()

    def _idle(self) -> bool:
        """After an empty poll: False when the loop should end, else True
        once woken (a seal's notification, or a quarter of a second passed)."""
        if self.store._run(self.follower.caught_up()):
            if self.follower.until_caught_up:
                return False
            if self._listener is None:
                conninfo, kwargs = connect_arguments(self.store.pool)
                self._listener = psycopg.connect(conninfo, **{**kwargs, "autocommit": True})
                self._listener.execute("LISTEN chronicle")
                return not self.stopped  # poll once more: a seal may have come before LISTEN
            for _ in self._listener.notifies(timeout=0.25, stop_after=1):
                pass
        return not self.stopped

    def _close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __iter__(self) -> Iterator[RecordedEvent]:
        try:
            while not self.stopped:
                batch = self.store._run(self.follower.poll())
                if not batch:
                    if not self._idle():
                        return
                    continue
                for event in batch:
                    yield event
                    if self.stopped:
                        return  # this batch is not acknowledged: delivered again
                self.store._run(self.follower.ack(batch))
        finally:
            self._close()

    def run(self, handler: Callable[[RecordedEvent, Transaction], None]) -> None:
        """Hands each event to ``handler(event, transaction)``; the batch's
        acknowledgement commits with what the handler did in
        ``transaction`` (an exception rolls both back and is raised)."""
        try:
            while not self.stopped:
                with self.store.transaction() as tx:
                    batch = tx._run(self.follower.poll())
                    for event in batch:
                        handler(event, tx)
                    if batch:
                        tx._run(self.follower.ack(batch))
                if not batch and not self._idle():
                    return
        finally:
            self._close()
