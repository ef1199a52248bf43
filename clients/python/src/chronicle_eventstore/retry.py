"""``retry_on_conflict``: the re-read, decide, append loop."""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
from typing import Any, Callable, Optional, TypeVar

from .errors import ConcurrencyError

F = TypeVar("F", bound=Callable[..., Any])


def retry_on_conflict(
    func: Optional[F] = None, *, attempts: int = 5, backoff: float = 0.005
) -> Any:
    """Calls ``func`` again when it raises ``ConcurrencyError`` (40001),
    up to ``attempts`` calls in all, after a short random pause that doubles
    each time; the last conflict is raised. ``func`` must re-read what it
    decides on (the stream, its version) at each call. Works on plain and
    ``async`` functions, as ``@retry_on_conflict`` or
    ``@retry_on_conflict(attempts=10)``."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")

    def pause(attempt: int) -> float:
        return backoff * (2**attempt) * random.random()

    def wrap(f: F) -> F:
        if inspect.iscoroutinefunction(f):

            @functools.wraps(f)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                for attempt in range(attempts):
                    try:
                        return await f(*args, **kwargs)
                    except ConcurrencyError:
                        if attempt == attempts - 1:
                            raise
                        await asyncio.sleep(pause(attempt))

            return run_async  # type: ignore[return-value]

        @functools.wraps(f)
        def run(*args: Any, **kwargs: Any) -> Any:
            for attempt in range(attempts):
                try:
                    return f(*args, **kwargs)
                except ConcurrencyError:
                    if attempt == attempts - 1:
                        raise
                    time.sleep(pause(attempt))

        return run  # type: ignore[return-value]

    return wrap(func) if func is not None else wrap
