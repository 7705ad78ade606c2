"""A clock for tests of wall-clock components: real timestamps, durations the test decides.

Watchdogs, stability checks and re-request timeouts measure durations with
``clock.monotonic()``. On a loaded machine real durations stretch, so a test on the wall
clock can see a "silence" that never happened, or miss one it waited too little for. With
:class:`StepClock` the monotonic time stands still until the test calls :meth:`advance`:
a silence of 3 s happens exactly when the test says ``clock.advance(3)``, never by
accident. ``now()`` stays the real wall time, so timestamps (signed requests, ``recv_ts``)
are what a venue expects.
"""

from __future__ import annotations

import time

import anyio

from hayate.clock import NS

__all__ = ["StepClock"]


class StepClock:
    """A :class:`hayate.clock.Clock` whose monotonic time only moves by :meth:`advance`."""

    simulated = False

    def __init__(self) -> None:
        self._monotonic = 1_000 * NS  # any start: only differences mean something

    def now(self) -> int:
        return time.time_ns()

    def monotonic(self) -> int:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for everything that measures durations on this clock."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._monotonic += round(seconds * NS)

    async def sleep_until(self, t: int) -> None:
        delay = (t - time.time_ns()) / NS
        if delay > 0:
            await anyio.sleep(delay)
