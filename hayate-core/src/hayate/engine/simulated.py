"""The simulated driver: a bot whose every source is simulated (a replay, a seeded market).

Owns the event loop of a simulation: one loop pulls time-ordered events from the sources
(merged by receive time), advances the :class:`SimClock` to each, fires clock followers
(timers) that fall due before it, and calls states and strategies synchronously, so a
replay runs as fast as the CPU allows and gives the same result every time. Executors'
answers wait in a queue until the current event is handled (a venue that answers at once
never re-enters a strategy from inside its own call). ``[engine] speed`` paces the loop
against the wall clock; ``[engine] duration`` ends it.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.lowlevel

from hayate.clock import NS, SimClock
from hayate.engine.guards import guarded, run_guarded, tagged
from hayate.engine.wiring import Route
from hayate.events import Event
from hayate.types import Collector, Emit

if TYPE_CHECKING:
    from hayate.engine.runtime import BotRuntime

__all__ = ["SimulatedDriver"]


class SimulatedDriver:
    """Runs ``runtime`` on its simulated clock until the data, the duration or a stop ends."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.rt = runtime
        self.deferred: deque[tuple[str, Event]] = deque()  # executors' answers, in order

    def _sources(self) -> list[Iterator[tuple[str, Event]]]:
        rt = self.rt
        iters: list[Iterator[tuple[str, Event]]] = []
        for cid, c in rt.components.items():
            if not isinstance(c, Collector) or not type(c).runs_simulated(c.config):
                continue
            wrapper = rt.wrappers.get(cid)
            if wrapper is not None:
                iters.append(guarded(wrapper.id, wrapper.wrap_events(guarded(cid, c.events()))))
            else:
                iters.append(tagged(cid, c.events()))
        return iters

    async def run(self, tg: anyio.abc.TaskGroup) -> None:
        rt = self.rt
        assert isinstance(rt.clock, SimClock)
        clock = rt.clock
        iters = self._sources()
        if len(iters) == 1:
            merged: Iterator[tuple[str, Event]] = iters[0]
        else:
            merged = heapq.merge(*iters, key=lambda item: item[1].recv_ts or item[1].ts)
        timers = [c for c in rt.components.values()
                  if isinstance(c, Collector) and c.clock_follower]
        for timer in timers:
            rt.routes.setdefault(timer.id, Route())
        for cid, c in rt.components.items():
            if rt.roles[cid] == "executors":
                tg.start_soon(run_guarded, c.id, c.run, self.emit_for(c.id))  # type: ignore[attr-defined]
        await anyio.lowlevel.checkpoint()  # let executors start before the first event
        deferred = self.deferred
        engine = rt.spec.engine
        duration_ns = int(engine.duration * NS) if engine.duration is not None else None
        speed = engine.speed or max((getattr(getattr(c, "config", None), "speed", 0) or 0
                                     for c in rt.components.values()
                                     if rt.roles[c.id] == "collectors"), default=0)
        wall0 = time.monotonic()
        t0 = 0  # the first event's time
        started = False
        end_at: int | None = None
        n = 0
        dispatch = rt._dispatch
        deliver = rt._deliver
        try:
            for source, ev in merged:
                t = ev.recv_ts or ev.ts
                if not started:
                    started = True
                    rt.sim_start = t0 = t
                    clock.advance(t)
                    for t_ in timers:
                        t_.start_at(t)  # type: ignore[attr-defined]
                    if duration_ns is not None:
                        end_at = t + duration_ns
                    for slot, acts in rt._call_start():
                        await rt._submit(slot, acts)
                if end_at is not None and t > end_at:
                    clock.advance(end_at)
                    rt.exit_reason = "duration reached"
                    if ev.private:  # the venue's answer already taken from it: heard at exit
                        rt.unheard.append((source, ev))
                    break
                if timers:
                    await self._fire_timers(timers, t)
                if t > clock._now:
                    clock._now = t
                if rt._risk is None:
                    pending = deliver(source, ev)  # no coroutine unless a strategy acts
                    if pending is not None:
                        await pending
                else:
                    await dispatch(source, ev)
                if deferred:
                    await self._drain_deferred()
                n += 1
                if speed:
                    ahead = (t - t0) / NS / speed - (time.monotonic() - wall0)
                    if ahead > 0.0005:
                        await anyio.sleep(ahead)
                if rt._stop_reason is not None:
                    break
                if not n & 1023:
                    rt.sim_events = n
                    await anyio.lowlevel.checkpoint()
            else:
                rt.exit_reason = "end of data"
        finally:
            # Counted however the loop ends (a signal cancels it mid-way): the summary and
            # the status panel then agree with what was handled.
            rt.events += n
            rt.sim_events = 0
        if rt._stop_reason is not None:
            rt.exit_reason = rt._stop_reason

    async def _fire_timers(self, timers: list[Any], t: int) -> None:
        rt = self.rt
        while True:
            due = min(timers, key=lambda x: x.next_due)
            if due.next_due > t:
                return
            when = due.next_due
            rt.clock.advance(when)  # type: ignore[attr-defined]
            for ev in due.fire(when):
                await rt._dispatch(due.id, ev)

    def emit_for(self, source: str) -> Emit:
        """Executors' events wait until the current event is handled, so a venue that
        answers at once never re-enters a strategy from inside its own call."""
        deferred = self.deferred

        async def emit(events: Sequence[Event]) -> None:
            for ev in events:
                deferred.append((source, ev))
        return emit

    async def _drain_deferred(self) -> None:
        rt = self.rt
        deferred = self.deferred
        while deferred:
            source, ev = deferred.popleft()
            rt.events += 1
            await rt._dispatch(source, ev)
