"""Record Bybit public frames to a file with the code the live collector runs.

The recorder *is* a ``bybit.public`` collector whose events are thrown away and whose raw
frames are written: it fetches instruments the same way (they go in the header), and its
decoder still asks for a fresh snapshot after a gap or a crossed book, so the file holds
everything a replay needs to rebuild exact books.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio

import hayate_bybit
from hayate.clock import Clock, WallClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import Event
from hayate.transport import first_error
from hayate_bybit.collectors.public import BybitPublic, BybitPublicConfig
from hayate_bybit.recording.format import Header, RecordingWriter

__all__ = ["Recorder"]

log = logging.getLogger("hayate_bybit.recording.recorder")


class Recorder:
    """Runs until cancelled or ``duration`` seconds; :attr:`writer` counts frames/bytes."""

    def __init__(
        self,
        out: str | Path,
        *,
        clock: Clock | None = None,
        **config: Any,
    ) -> None:
        self.clock = clock or WallClock()
        self.config = BybitPublicConfig(type="bybit.public", **config)
        bot = BotContext(name="record", clock=self.clock, seed=0, out_dir=None, mode="live",
                         client_ids=ClientIdFactory("rec"))
        ctx = ComponentContext(bot, "record", BybitPublic.kind, "collectors")
        ctx.log = log
        self.collector = BybitPublic("record", self.config, ctx)
        self.out = Path(out)
        self.writer: RecordingWriter | None = None
        self.events = 0

    @property
    def metrics(self) -> Any:
        return self.collector.ctx.metrics

    async def _emit(self, events: Sequence[Event]) -> None:
        self.events += len(events)

    async def run(self, duration: float | None = None,
                  on_ready: Callable[[], None] | None = None) -> None:
        c = self.config
        await self.collector.setup()
        header = Header(
            category=c.category, symbols=list(c.symbols), depth=c.depth,
            topics=[t for g in self.collector.topic_groups() for t in g],
            url=self.collector.ws_url, testnet=c.testnet, started_ns=self.clock.now(),
            recorder=f"hayate-bybit {hayate_bybit.__version__}",
            instruments=list(self.collector.instruments_info.values()),
        )
        self.writer = writer = RecordingWriter(self.out, header)
        try:
            pairs = self.collector.make_sessions(self._emit, on_frame=writer.frame,
                                                 on_link=writer.event)
            self.collector.sockets = [ws for ws, _ in pairs]
            self.collector.sessions = [s for _, s in pairs]
            with anyio.move_on_after(duration):
                try:
                    async with anyio.create_task_group() as tg:
                        for ws, session in pairs:
                            tg.start_soon(ws.run, session)
                        tg.start_soon(self._flush_every_second, writer)
                        for _, session in pairs:
                            await session.ready.wait()
                        if on_ready is not None:
                            on_ready()
                except BaseExceptionGroup as group:
                    raise first_error(group) from None
        finally:
            writer.close()

    async def _flush_every_second(self, writer: RecordingWriter) -> None:
        while True:
            await anyio.sleep(1.0)
            writer.flush()
