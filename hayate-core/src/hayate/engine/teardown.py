"""Teardown: how a bot ends, after a normal end, an error or a signal alike.

Owns the order of the last steps, all shielded by the caller and bounded by
``[engine] teardown_timeout``: strategies' ``on_stop`` actions (once; a live run calls them
earlier, while the executors still run), each executor's cancel of its open orders (per
executor ``cancel_orders_on_exit``, else the engine's), the venue's last reports applied to
states, the journal and the risk engine (private events still queued when dispatching
stopped, then what the executor's :meth:`~hayate.types.Executor.drain_events` brings: a
simulated venue's answers to the exit's cancels, a live venue's fills and order ends that
raced the stop), then every component closed, sources first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio

from hayate.clock import SimClock
from hayate.events import Event
from hayate.types import Executor

if TYPE_CHECKING:
    from hayate.engine.runtime import BotRuntime

__all__ = ["Teardown"]

log = logging.getLogger("hayate.engine")


class Teardown:
    """The end of ``runtime``'s run (see the module docstring)."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.rt = runtime
        self.stop_called = False

    async def run(self, normal: bool) -> None:
        rt = self.rt
        timeout = rt.spec.engine.teardown_timeout
        queued = rt.live.inbox.take_private() if rt.live is not None else []
        with anyio.move_on_after(timeout) as scope:
            if normal:
                await self.call_stop()
            for c in rt._ordered("executors"):
                assert isinstance(c, Executor)
                cancel = c.config.cancel_orders_on_exit
                if cancel is None:
                    cancel = rt.spec.engine.cancel_orders_on_exit
                if cancel:
                    try:
                        await c.cancel_all_open()
                    except Exception as e:
                        log.error("executor %s could not cancel open orders: %s", c.id, e)
                try:
                    unheard = [ev for src, ev in [*queued, *rt.unheard] if src == c.id]
                    # An executor may hand back an event that reached the inbox as the stop
                    # came: the same object, heard once.
                    heard = {id(ev) for ev in unheard}
                    drained = [ev for ev in await c.drain_events() if id(ev) not in heard]
                    for ev in [*unheard, *drained]:
                        self._hear_at_exit(c.id, ev)
                except Exception as e:
                    log.error("executor %s: its last events could not be applied: %s", c.id, e)
            for role in ("collectors", "strategies", "inputs", "states", "executors"):
                for c in rt._ordered(role):
                    try:
                        await c.aclose()
                    except Exception as e:
                        log.error("%s %s failed to close: %s", role[:-1], c.id, e)
        if scope.cancelled_caught:
            log.error("teardown did not finish within %.1fs", timeout)

    async def call_stop(self) -> None:
        """Strategies' ``on_stop`` actions, once (live: before the executors stop)."""
        if self.stop_called:
            return
        self.stop_called = True
        rt = self.rt
        for gid, slot in rt.slots.items():
            stop = getattr(slot.strategy, "on_stop", None)
            if stop is None:
                continue
            try:
                acts = stop(slot.input.read() if slot.input else None)
                if acts:
                    await rt._submit(slot, acts)
            except Exception as e:
                log.error("strategy %s on_stop failed: %s", gid, e)

    def _hear_at_exit(self, source: str, ev: Event) -> None:
        """States, observers and the risk engine hear ``ev``; strategies no longer do."""
        rt = self.rt
        route = rt.routes.get(source)
        if route is None:
            return
        if isinstance(rt.clock, SimClock) and ev.recv_ts > rt.clock.now():
            rt.clock.advance(ev.recv_ts)
        rt.events += 1
        if rt._risk is not None:
            rt._risk.observe(source, ev)
        appliers = route.by_type.get(type(ev))
        if appliers is None:
            appliers = route.appliers_for(type(ev))
        for apply in appliers:
            apply(ev)
