"""Errors that name their component: whatever a collector, executor or wrapper raises while
the engine drives it becomes a :class:`ComponentError` with that component's id, so the bot
stops with "venue: ..." rather than an anonymous traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anyio

from hayate.events import Event
from hayate.exceptions import ComponentError

__all__ = ["guarded", "run_guarded", "tagged", "unwrap"]


async def run_guarded(cid: str, fn: Callable[..., Any], *args: Any) -> None:
    """Await ``fn(*args)``; an error other than cancellation names ``cid``."""
    try:
        await fn(*args)
    except anyio.get_cancelled_exc_class():
        raise
    except ComponentError:
        raise
    except Exception as e:
        raise ComponentError(cid, f"{type(e).__name__}: {e}") from e


def tagged(source: str, events: Iterator[Event]) -> Iterator[tuple[str, Event]]:
    """Tag a simulated collector's events with its id; its errors name it."""
    try:
        for ev in events:
            yield source, ev
    except (ComponentError, GeneratorExit):
        raise
    except Exception as e:
        raise ComponentError(source, f"{type(e).__name__}: {e}") from e


def guarded(source: str, items: Iterator[Any]) -> Iterator[Any]:
    """Pass items through; an error raised while producing them names ``source``."""
    try:
        yield from items
    except (ComponentError, GeneratorExit):
        raise
    except Exception as e:
        raise ComponentError(source, f"{type(e).__name__}: {e}") from e


def unwrap(exc: BaseException) -> BaseException:
    """The one error that matters in what a task group raised (not a cancellation)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        for e in exc.exceptions:
            if not isinstance(e, anyio.get_cancelled_exc_class()):
                return unwrap(e)
    return exc
