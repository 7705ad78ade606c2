"""Waiting for a condition instead of sleeping, with a generous bound that only fails a hung
test.

A fixed sleep ("give it 0.3 s") is too short on a loaded machine and wasted time on an idle
one. When the code under test offers no event to await (a file another process writes, a
fake venue's attribute), poll the condition itself: these helpers re-check it every
``interval`` and give up only after ``within`` seconds (30 by default), long enough that
only a test that is really stuck fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import anyio

__all__ = ["DEFAULT_WITHIN", "poll_until", "wait_until"]

T = TypeVar("T")

DEFAULT_WITHIN = 30.0
"""Seconds before a wait is declared hung (not a latency promise: it only fails stuck tests)."""


async def wait_until(check: Callable[[], T], *, within: float = DEFAULT_WITHIN,
                     interval: float = 0.01, what: str = "") -> T:
    """Return ``check()``'s first truthy value, re-checking every ``interval`` seconds."""
    with anyio.move_on_after(within):
        while True:
            got = check()
            if got:
                return got
            await anyio.sleep(interval)
    raise AssertionError(f"still waiting after {within:g}s for {what or _name(check)}")


def poll_until(check: Callable[[], T], *, within: float = DEFAULT_WITHIN,
               interval: float = 0.02, what: str = "") -> T:
    """The blocking twin of :func:`wait_until`, for tests that drive a subprocess."""
    deadline = time.monotonic() + within
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {within:g}s for {what or _name(check)}")
        time.sleep(interval)


def _name(check: Callable[..., object]) -> str:
    return getattr(check, "__qualname__", None) or repr(check)
