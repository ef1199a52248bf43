"""Events as Python values: what is appended (``NewEvent``), what is read
(``RecordedEvent``), and JSON with exact numbers (``Decimal`` for every JSON
number that is not an integer, both ways)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping, Optional, Sequence, Union
from uuid import UUID

JSON = Any


def loads(text: Union[str, bytes]) -> JSON:
    """JSON text to Python, numbers that are not integers as ``Decimal``
    (``1.50`` stays ``Decimal("1.50")``, never the float 1.5)."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: JSON) -> str:
    """Python to JSON text; a ``Decimal`` is written with its exact digits.
    NaN and infinities are refused (JSON has no such numbers)."""
    return "".join(_encode(value))


def _encode(value: JSON) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"JSON has no number {value}")
        yield str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"JSON has no number {value}")
        yield float.__repr__(value)
    elif isinstance(value, Mapping):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
            if i:
                yield ","
            yield json.dumps(key, ensure_ascii=False)
            yield ":"
            yield from _encode(item)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from _encode(item)
        yield "]"
    elif isinstance(value, (UUID, datetime)):
        yield json.dumps(value.isoformat() if isinstance(value, datetime) else str(value))
    else:
        yield json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class NewEvent:
    """An event to append. Only ``event_type`` and ``data`` are required;
    the rest take Chronicle's defaults (a new ``event_id``, the
    transaction's time as ``occurred_at``, schema version 1)."""

    event_type: str
    data: Mapping[str, JSON]
    metadata: Optional[Mapping[str, JSON]] = None
    event_id: Optional[UUID] = None
    correlation_id: Optional[str] = None
    causation_id: Optional[str] = None
    actor: Optional[str] = None
    occurred_at: Optional[datetime] = None
    schema_version: Optional[int] = None

    def to_json(self) -> dict[str, JSON]:
        """The event as an element of ``append_events``' ``events`` array."""
        out: dict[str, JSON] = {"event_type": self.event_type, "data": self.data}
        for name in ("metadata", "event_id", "correlation_id", "causation_id", "actor", "occurred_at", "schema_version"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored: its envelope and its payload. ``global_position``
    is None for the milliseconds between its commit and its sealing."""

    stream_id: str
    stream_type: str
    version: int
    global_position: Optional[int]
    event_id: UUID
    event_type: str
    schema_version: int
    data: dict[str, JSON]
    metadata: dict[str, JSON] = field(default_factory=dict)
    correlation_id: Optional[str] = None
    causation_id: Optional[str] = None
    actor: Optional[str] = None
    occurred_at: Optional[datetime] = None
    recorded_at: Optional[datetime] = None


#: The columns of ``chronicle.events`` in RecordedEvent's order, with the
#: JSON members as text (parsed by ``loads`` for exact numbers).
EVENT_COLUMNS = (
    "stream_id, stream_type, version, global_position, event_id, event_type, schema_version, "
    "data::text, metadata::text, correlation_id, causation_id, actor, occurred_at, recorded_at"
)


def event_from_row(row: Sequence[Any]) -> RecordedEvent:
    """A RecordedEvent from a row of ``EVENT_COLUMNS``."""
    return RecordedEvent(
        stream_id=row[0],
        stream_type=row[1],
        version=row[2],
        global_position=row[3],
        event_id=row[4],
        event_type=row[5],
        schema_version=row[6],
        data=loads(row[7]),
        metadata=loads(row[8]) if row[8] is not None else {},
        correlation_id=row[9],
        causation_id=row[10],
        actor=row[11],
        occurred_at=row[12],
        recorded_at=row[13],
    )


def events_json(events: Sequence[Union[NewEvent, Mapping[str, JSON]]]) -> str:
    """``append_events``' ``events`` argument as JSON text."""
    if isinstance(events, (NewEvent, Mapping)):
        raise TypeError("events is a sequence of events: pass [event]")
    return dumps([e.to_json() if isinstance(e, NewEvent) else e for e in events])
