"""The live driver: a bot with at least one source on the wall clock (live data, a venue).

Owns the tasks of a live run and the :class:`Inbox` between them: each collector and each
executor runs in its own task and puts batches into its bounded queue (a collector's
overflow policy is its own; private events are never dropped); a wrapped collector (market
data under the paper exchange) feeds its wrapper through a bounded stream. One dispatcher
takes batches out in arrival order until a stop, the duration or the end of every source.
A collector that is not ready within ``[engine] ready_timeout`` stops the bot.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.lowlevel

from hayate.engine.guards import run_guarded
from hayate.engine.inbox import Inbox
from hayate.events import Event
from hayate.exceptions import ComponentError
from hayate.types import Emit

if TYPE_CHECKING:
    from hayate.engine.runtime import BotRuntime

__all__ = ["LiveDriver"]

log = logging.getLogger("hayate.engine")


class LiveDriver:
    """Runs ``runtime``'s components as tasks of ``tg`` and dispatches what they emit."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.rt = runtime
        self.inbox = Inbox()
        self.finished_sources = 0
        self.live_sources = sum(1 for cid in runtime.components
                                if runtime.roles[cid] == "collectors")

    async def run(self, tg: anyio.abc.TaskGroup) -> None:
        rt = self.rt
        inbox = self.inbox
        for cid, c in rt.components.items():
            role = rt.roles[cid]
            if role == "collectors":
                cfg = c.config
                inbox.add_source(cid, getattr(cfg, "queue_size", 4096), getattr(cfg, "overflow", "block"))
            elif role == "executors":
                inbox.add_source(cid, 4096, "block")  # private events are never dropped

        def emit_to(source: str) -> Emit:
            async def emit(events: Sequence[Event]) -> None:
                await inbox.put(source, events)
            return emit

        # Downstream first: executors, then collectors.
        for cid, c in rt.components.items():
            if rt.roles[cid] == "executors":
                if c in rt.wrappers.values():  # a wrapper runs as wrap_run() instead
                    continue
                tg.start_soon(run_guarded, cid, c.run, emit_to(cid))  # type: ignore[attr-defined]
        await anyio.lowlevel.checkpoint()  # executors start before any collector
        for wrapped_id, wrapper in rt.wrappers.items():
            send, receive = anyio.create_memory_object_stream[Sequence[Event]](
                getattr(rt.components[wrapped_id].config, "queue_size", 4096))

            async def inner_emit(events: Sequence[Event], _send: Any = send) -> None:
                await _send.send(events)

            async def inner_iter(_recv: Any = receive) -> AsyncIterator[Sequence[Event]]:
                async with _recv:
                    async for batch in _recv:
                        yield batch

            tg.start_soon(self._run_wrapper, wrapper, inner_iter(), emit_to, receive)
            tg.start_soon(self._run_collector, wrapped_id, inner_emit, send)
        for cid in rt.components:
            if rt.roles[cid] == "collectors" and cid not in rt.wrappers:
                tg.start_soon(self._run_collector, cid, emit_to(cid), None)

        tg.start_soon(self._await_ready)
        for slot, acts in rt._call_start():
            await rt._submit(slot, acts)
        engine = rt.spec.engine
        if engine.duration is not None:
            with anyio.move_on_after(engine.duration):
                await self._dispatch(inbox)
            rt.exit_reason = "duration reached"
        else:
            await self._dispatch(inbox)

    async def _run_collector(self, cid: str, emit: Emit, send: Any) -> None:
        c = self.rt.components[cid]
        try:
            await run_guarded(cid, c.run, emit)  # type: ignore[attr-defined]
        finally:
            if send is not None:
                await send.aclose()
        log.info("collector %s finished", cid)
        if send is None:  # a wrapped collector's end is counted when its wrapper is done
            self._source_finished()

    async def _run_wrapper(self, wrapper: Any, inner: AsyncIterator[Sequence[Event]],
                           emit_to: Callable[[str], Emit], receive: Any) -> None:
        """A wrapper (the paper exchange) delivers what is still in flight after its source
        ended; only then is that source finished for the bot."""
        try:
            await run_guarded(wrapper.id, wrapper.wrap_run, inner, emit_to)
        finally:
            receive.close()  # even if the wrapper failed before taking its source
        self._source_finished()

    def _source_finished(self) -> None:
        self.finished_sources += 1
        if self.finished_sources >= self.live_sources:
            self.inbox.close()

    async def _await_ready(self) -> None:
        rt = self.rt
        waits = [rt.contexts[cid] for cid in rt.components if rt.roles[cid] == "collectors"]
        timeout = rt.spec.engine.ready_timeout
        with anyio.move_on_after(timeout) as scope:
            for ctx in waits:
                await ctx.ready_event.wait()
        if scope.cancelled_caught:
            missing = [c.id for c in waits if not c.ready_event.is_set()]
            raise ComponentError(missing[0], f"not ready after {timeout:g}s "
                                 "(not subscribed, or no snapshot yet)")
        log.info("bot %s ready", rt.spec.name)

    async def _dispatch(self, inbox: Inbox) -> None:
        rt = self.rt
        dispatch = rt._dispatch
        while rt._stop_reason is None:
            try:
                source, batch = await inbox.get()
            except anyio.EndOfStream:
                rt.exit_reason = "all sources finished"
                return
            for ev in batch:
                rt.events += 1
                await dispatch(source, ev)
