"""``core.timer``: periodic :class:`~hayate.events.Timer` events, live or simulated."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from hayate.clock import NS
from hayate.events import Event, Timer
from hayate.spec.models import Duration
from hayate.spec.preview import SourcePreview, SpecCheck
from hayate.types import Collector, CollectorConfig, Emit

__all__ = ["TimerCollector"]


class TimerConfig(CollectorConfig):
    interval: Duration = Field(1.0, gt=0, description="Seconds between ticks (or '500ms', '1m').")


class TimerCollector(Collector):
    """Ticks every ``interval``: on the wall clock live, on the simulated clock in replays."""

    kind: ClassVar[str] = "core.timer"
    Config: ClassVar[type[TimerConfig]] = TimerConfig
    clock_follower: ClassVar[bool] = True  # follows whichever clock drives the bot

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        """Timer events: no market data."""
        return SourcePreview.no_market_data()

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.interval_ns = int(config.interval * NS)
        self.next_due = 1 << 62

    # simulated: the engine calls start_at() with the first event's time, then fire()
    def start_at(self, t: int) -> None:
        self.next_due = t + self.interval_ns

    def fire(self, when: int) -> list[Event]:
        self.next_due = when + self.interval_ns
        return [Timer(ts=when, recv_ts=when, name=self.id)]

    async def run(self, emit: Emit) -> None:
        clock = self.ctx.clock
        self.ctx.set_ready()
        nxt = clock.now() + self.interval_ns
        while True:
            await clock.sleep_until(nxt)
            now = clock.now()
            await emit([Timer(ts=now, recv_ts=now, name=self.id)])
            nxt += self.interval_ns
            if nxt < now:  # fell behind (suspended laptop): skip missed ticks
                nxt = now + self.interval_ns
