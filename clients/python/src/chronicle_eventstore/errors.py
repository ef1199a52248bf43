"""Chronicle's errors as Python exceptions: one class per SQLSTATE family the
extension documents (README "Errors"), each carrying the server's SQLSTATE,
message, DETAIL and HINT.

Every exception a call of this package raises for a rejection by the server is
a ``ChronicleError``; the original psycopg error is its ``__cause__``.
"""

from __future__ import annotations

import re
from typing import Optional

import psycopg


class ChronicleError(Exception):
    """A rejection by Chronicle (or by Postgres on its behalf)."""

    #: The SQLSTATE this class stands for (None: any not listed below).
    code: Optional[str] = None

    def __init__(
        self,
        message: str,
        sqlstate: Optional[str] = None,
        detail: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate or self.code
        self.detail = detail
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.message} [{self.sqlstate}]"
        if self.detail:
            text += f"\nDETAIL: {self.detail}"
        if self.hint:
            text += f"\nHINT: {self.hint}"
        return text


class ValidationError(ChronicleError):
    """Bad input (classes 22 and 54, and 23514 for a schema): nothing was
    stored. ``field`` is the field the message names first
    (``events[2].data``, ``stream_id``, ``data.items[0].price``)."""

    @property
    def field(self) -> Optional[str]:
        first = self.message.split(" ", 1)[0]
        return first or None


class NullValueError(ValidationError):
    code = "22004"


class InvalidValueError(ValidationError):
    code = "22023"


class TooLongError(ValidationError):
    code = "22001"


class LimitExceededError(ValidationError):
    code = "54000"


class SchemaViolationError(ValidationError):
    code = "23514"


class ConcurrencyError(ChronicleError):
    """40001: the stream was not at the expected version (someone else
    appended), or, under REPEATABLE READ, a concurrent write to the same
    stream or data subject. Re-read, decide again and retry
    (``retry_on_conflict`` does it)."""

    code = "40001"

    @property
    def expected_version(self) -> Optional[int]:
        return _version(self.detail, "Expected version")

    @property
    def actual_version(self) -> Optional[int]:
        return _version(self.detail, "actual version")


class DuplicateEventError(ChronicleError):
    """23505: an ``event_id`` already stored elsewhere (another stream, other
    content or another position)."""

    code = "23505"


class NotFound(ChronicleError):
    """42704: a stream, subscription, definition or data subject that does
    not exist (or is another tenant's)."""

    code = "42704"


class AlreadyExists(ChronicleError):
    """42710: a subscription with that name exists."""

    code = "42710"


class PermissionDenied(ChronicleError):
    """42501: the role lacks the ``chronicle_*`` role the call needs, or the
    stream is another tenant's."""

    code = "42501"


class ReadOnlyError(ChronicleError):
    """25006: a write on a hot standby or in a read-only transaction."""

    code = "25006"


class UnavailableError(ChronicleError):
    """Class 55: the object is not in a state that allows the call."""


class StreamDeletedError(UnavailableError):
    """55Z01: the stream was deleted with ``hard => true``."""

    code = "55Z01"


class HistoryRemovedError(UnavailableError):
    """55Z02: that part of the stream's history was removed (truncation,
    retention, deletion)."""

    code = "55Z02"


class StreamArchivedError(UnavailableError):
    """55Z03: the stream is archived; restore it first."""

    code = "55Z03"


class ReplayError(ChronicleError):
    """22000: a reducer failed on an event during replay."""

    code = "22000"


class DataCorruptedError(ChronicleError):
    """XX001: a stored personal member does not open with its key."""

    code = "XX001"


_BY_CODE = {
    cls.code: cls
    for cls in (
        NullValueError,
        InvalidValueError,
        TooLongError,
        LimitExceededError,
        SchemaViolationError,
        ConcurrencyError,
        DuplicateEventError,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ReadOnlyError,
        StreamDeletedError,
        HistoryRemovedError,
        StreamArchivedError,
        ReplayError,
        DataCorruptedError,
    )
}


def error_class(sqlstate: Optional[str]) -> type[ChronicleError]:
    """The exception class for a SQLSTATE: its own, else its family's."""
    if sqlstate is None:
        return ChronicleError
    if sqlstate in _BY_CODE:
        return _BY_CODE[sqlstate]
    family = sqlstate[:2]
    if family in ("22", "54"):
        return ValidationError
    if family == "55":
        return UnavailableError
    return ChronicleError


def from_psycopg(error: psycopg.Error) -> ChronicleError:
    """The ChronicleError for a psycopg error raised by the server."""
    diag = error.diag
    message = diag.message_primary or str(error)
    cls = error_class(error.sqlstate)
    return cls(message, error.sqlstate, diag.message_detail, diag.message_hint)


def _version(detail: Optional[str], label: str) -> Optional[int]:
    if not detail:
        return None
    m = re.search(label + r" (\d+)", detail)
    return int(m[1]) if m else None
