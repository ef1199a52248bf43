"""The SQL of every EventStore method and what its rows become: one place
for both the blocking (``store.py``) and the asyncio (``aio.py``) store,
which only differ in how they run a ``Call``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from .events import EVENT_COLUMNS, JSON, NewEvent, RecordedEvent, event_from_row, events_json, loads


@dataclass(frozen=True)
class Call:
    """A statement, its parameters, and the function that turns its rows
    into the method's answer."""

    sql: str
    params: Sequence[Any]
    result: Callable[[list[tuple[Any, ...]]], Any]


def _one(rows: list[tuple[Any, ...]]) -> Any:
    return rows[0][0]


def _events(rows: list[tuple[Any, ...]]) -> list[RecordedEvent]:
    return [event_from_row(r) for r in rows]


def append(
    stream_id: str,
    events: Sequence[Union[NewEvent, Mapping[str, JSON]]],
    expected_version: Optional[int],
    stream_type: Optional[str],
) -> Call:
    return Call(
        "SELECT chronicle.append_events(%s, %s::jsonb, expected_version => %s, stream_type => %s)",
        (stream_id, events_json(events), expected_version, stream_type),
        _one,
    )


def read_stream(stream_id: str, from_version: int, to_version: Optional[int], upcast: bool) -> Call:
    return Call(
        f"SELECT {EVENT_COLUMNS} FROM chronicle.read_stream(%s, %s, %s, %s)",
        (stream_id, from_version, to_version, upcast),
        _events,
    )


def read_correlation(correlation_id: str) -> Call:
    return Call(f"SELECT {EVENT_COLUMNS} FROM chronicle.read_correlation(%s)", (correlation_id,), _events)


def stream_version(stream_id: str) -> Call:
    return Call("SELECT chronicle.stream_version(%s)", (stream_id,), _one)


def exists(stream_id: str) -> Call:
    return Call("SELECT chronicle.stream_version(%s) > 0", (stream_id,), _one)


def state_at(stream_id: str, to_version: Optional[int], as_of: Optional[datetime]) -> Call:
    return Call(
        "SELECT chronicle.state_at(%s, to_version => %s, as_of => %s)::text",
        (stream_id, to_version, as_of),
        lambda rows: loads(rows[0][0]) if rows[0][0] is not None else None,
    )


def read_all(
    after_position: int, max_count: int, stream_type: Optional[str], event_types: Optional[Sequence[str]]
) -> Call:
    return Call(
        f"SELECT {EVENT_COLUMNS} FROM chronicle.read_all(%s, %s, %s, %s)",
        (after_position, max_count, stream_type, list(event_types) if event_types is not None else None),
        _events,
    )


def feed_head() -> Call:
    return Call("SELECT chronicle.feed_head()", (), _one)


def create_subscription(
    name: str, stream_type: Optional[str], event_types: Optional[Sequence[str]], after_position: int
) -> Call:
    return Call(
        "SELECT name FROM chronicle.create_subscription(%s, %s, %s, %s)",
        (name, stream_type, list(event_types) if event_types is not None else None, after_position),
        lambda rows: None,
    )


@dataclass(frozen=True)
class Follower:
    """One consumer of a subscription, as both stores' loops follow it:
    its poll, its acknowledgement and whether it has caught up."""

    name: str
    max_count: int = 500
    consumer: int = 0
    consumers: int = 1
    until_caught_up: bool = False

    def poll(self) -> Call:
        return poll(self.name, self.max_count, self.consumer, self.consumers)

    def ack(self, batch: list[RecordedEvent]) -> Call:
        return ack(self.name, batch[-1].global_position, self.consumer)  # type: ignore[arg-type]

    def caught_up(self) -> Call:
        return caught_up(self.name, self.consumer)


def poll(name: str, max_count: int, consumer: int, consumers: int) -> Call:
    return Call(
        f"SELECT {EVENT_COLUMNS} FROM chronicle.poll(%s, %s, %s, %s)",
        (name, max_count, consumer, consumers),
        _events,
    )


def ack(name: str, to_position: int, consumer: int) -> Call:
    return Call("SELECT chronicle.ack(%s, %s, %s)", (name, to_position, consumer), _one)


def caught_up(name: str, consumer: int) -> Call:
    """Whether the consumer has nothing to wait for: its checkpoint is at
    the head of the feed, or the subscription is paused or failed (poll
    returns nothing then)."""
    return Call(
        "SELECT s.status NOT IN ('running', 'rebuilding') "
        "       OR coalesce(c.position, s.last_position) >= chronicle.feed_head() "
        "  FROM chronicle.subscriptions s "
        "  LEFT JOIN chronicle.subscription_consumers c ON c.subscription = s.name AND c.consumer = %s "
        " WHERE s.name = %s",
        (consumer, name),
        lambda rows: bool(rows and rows[0][0]),
    )
