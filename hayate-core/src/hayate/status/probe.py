"""Operator figures that need the hot path: tick-to-trade latency, orders, fills, rejects.

Tick-to-trade is the time from a market event's arrival in the dispatcher (before the
books are updated) to each action it caused being submitted (after the risk gate),
measured on the monotonic clock (``time.perf_counter_ns``). It needs a tap on market
events, so it is attached only when someone reads it: the metrics endpoint, or the live
status of a wall-clock run (a replay's status shows throughput and progress instead).
"""

from __future__ import annotations

import time
from typing import Any

from hayate.actions import Action, PlaceOrder
from hayate.events import Event, Fill, MarketEvent, OrderStatus, OrderUpdate
from hayate.stash import StashKey

__all__ = ["PROBE", "BotProbe", "attach_probe"]

_REJECTED = OrderStatus.REJECTED


class BotProbe:
    """Counts into the bot's :class:`~hayate.metrics.Metrics` (names ``hayate_*``)."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        m = bot.ctx.metrics
        self.metrics = m
        self.latency = m.histogram("tick_to_trade_us")
        m.help["tick_to_trade_us"] = ("Market event arrival to action submitted "
                                      "(microseconds, monotonic clock)")
        self._t0 = 0
        self._pending = False
        self.market_events = 0
        self.orders = 0
        self.fills = 0
        self.rejects = 0

    def on_event(self, source: str, ev: Event) -> None:
        if isinstance(ev, MarketEvent):
            self._t0 = time.perf_counter_ns()
            self._pending = True
            self.market_events += 1
            return
        # What a private event or a timer causes is not tick-to-trade.
        self._pending = False
        if isinstance(ev, Fill):
            self.fills += 1
            self.metrics.inc("fills", 1, symbol=ev.symbol, liquidity=ev.liquidity.value)
        elif isinstance(ev, OrderUpdate) and ev.status is _REJECTED:
            self.rejects += 1
            self.metrics.inc("order_rejects", 1, symbol=ev.symbol)

    def on_action(self, strategy: str, action: Action) -> None:
        if self._pending:
            self.latency.observe((time.perf_counter_ns() - self._t0) / 1000.0)
        if isinstance(action, PlaceOrder):
            self.orders += 1
            self.metrics.inc("orders", 1, symbol=action.symbol)
        self.metrics.inc("actions", 1, type=type(action).__name__)

    def on_block(self, strategy: str, action: Action, reason: str) -> None:
        self.metrics.inc("risk_blocks", 1, reason=reason)


PROBE: StashKey[BotProbe] = StashKey("hayate.probe")
"""The bot's probe in ``bot.stash`` (status display and metrics read it)."""


def attach_probe(bot: Any) -> BotProbe:
    """One probe per bot, shared by the status display and the metrics endpoint."""
    probe = bot.stash.get(PROBE)
    if probe is None:
        probe = bot.stash[PROBE] = BotProbe(bot)
        bot.observe(events=probe.on_event, event_types=(Event,), actions=probe.on_action,
                    blocks=probe.on_block, first=True)
    return probe
