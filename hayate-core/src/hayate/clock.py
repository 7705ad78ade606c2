"""Clocks. Components never call ``time.time()``: they read the clock they are given.

Live runs use :class:`WallClock`; replays and simulations use :class:`SimClock`, which the
engine advances to each event's time, so a replay runs as fast as the CPU allows and gives
the same result every time.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import anyio

__all__ = ["Clock", "SimClock", "WallClock", "format_ns"]

NS = 1_000_000_000


@runtime_checkable
class Clock(Protocol):
    simulated: bool

    def now(self) -> int:
        """Current time in integer nanoseconds since the epoch."""
        ...

    def monotonic(self) -> int:
        """Nanoseconds for measuring durations (never goes back)."""
        ...

    async def sleep_until(self, t: int) -> None:
        """Wait until ``now() >= t`` (returns at once in a simulation)."""
        ...


class WallClock:
    simulated = False

    def now(self) -> int:
        return time.time_ns()

    def monotonic(self) -> int:
        return time.monotonic_ns()

    async def sleep_until(self, t: int) -> None:
        delay = (t - time.time_ns()) / NS
        if delay > 0:
            await anyio.sleep(delay)


class SimClock:
    """Simulated time, advanced by the engine; never goes backwards."""

    simulated = True

    def __init__(self, start: int = 0) -> None:
        self._now = start

    def now(self) -> int:
        return self._now

    def monotonic(self) -> int:
        return self._now

    def advance(self, t: int) -> None:
        if t > self._now:
            self._now = t

    async def sleep_until(self, t: int) -> None:
        self.advance(t)


def format_ns(t: int) -> str:
    """ISO-8601 UTC with milliseconds, for logs and reports."""
    secs, ns = divmod(t, NS)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns // 1_000_000:03d}Z"
