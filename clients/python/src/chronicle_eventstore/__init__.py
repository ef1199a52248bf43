"""chronicle-eventstore: Chronicle, the PostgreSQL event store extension,
from Python (psycopg 3), blocking and asyncio; and a persistence module for
the ``eventsourcing`` library (``chronicle_eventstore.eventsourcing``)."""

from .aio import AsyncEventStore, AsyncSubscription, AsyncTransaction
from .errors import (
    AlreadyExists,
    ChronicleError,
    ConcurrencyError,
    DataCorruptedError,
    DuplicateEventError,
    HistoryRemovedError,
    InvalidValueError,
    LimitExceededError,
    NotFound,
    NullValueError,
    PermissionDenied,
    ReadOnlyError,
    ReplayError,
    SchemaViolationError,
    StreamArchivedError,
    StreamDeletedError,
    TooLongError,
    UnavailableError,
    ValidationError,
)
from .events import NewEvent, RecordedEvent, dumps, loads
from .retry import retry_on_conflict
from .store import EventStore, Subscription, Transaction

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "AsyncEventStore",
    "AsyncSubscription",
    "AsyncTransaction",
    "ChronicleError",
    "ConcurrencyError",
    "DataCorruptedError",
    "DuplicateEventError",
    "EventStore",
    "HistoryRemovedError",
    "InvalidValueError",
    "LimitExceededError",
    "NewEvent",
    "NotFound",
    "NullValueError",
    "PermissionDenied",
    "ReadOnlyError",
    "RecordedEvent",
    "ReplayError",
    "SchemaViolationError",
    "StreamArchivedError",
    "StreamDeletedError",
    "Subscription",
    "TooLongError",
    "Transaction",
    "UnavailableError",
    "ValidationError",
    "dumps",
    "loads",
    "retry_on_conflict",
]
