"""Run any Hayate market-data collector as the exchange's market, on the wall clock.

A live collector (``bybit.public``) already runs on the wall clock: its batches are
applied as they come. A simulated one (``sim.market``, ``bybit.replay``) yields events on
its own clock; they are paced so that the source's time advances with the wall clock
(times ``speed``), and the exchange stamps them with the wall time it applies them at.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from hayate.clock import NS, WallClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import Event
from hayate.exceptions import ConfigError
from hayate.instruments import InstrumentRegistry
from hayate.plugins.manager import PluginManager
from hayate.plugins.registry import did_you_mean
from hayate.types import Collector
from hayate_paper.bybit_server.market import Market

__all__ = ["build_collector", "is_simulated", "raw_instruments", "run_feed"]

log = logging.getLogger("hayate_paper.bybit_server.feed")

_BATCH = 512


def build_collector(table: dict[str, Any], plugins: PluginManager,
                    instruments: InstrumentRegistry, seed: int = 0) -> Collector:
    """The collector a ``[market]`` table declares, with a wall-clock context."""
    from pydantic import ValidationError

    kind = table.get("type", "")
    entry = plugins.registry.get("collectors", kind)
    if entry is None:
        known = plugins.registry.kinds("collectors")
        hint = did_you_mean(kind, known)
        raise ConfigError(f"[market] type {kind!r} is not a known collector"
                          + (f" (did you mean {hint!r}?)" if hint else "")
                          + f"; known: {', '.join(known)}")
    try:
        config = entry.config_model.model_validate(table)
    except ValidationError as e:
        lines = "\n".join(f"  - market.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                          for err in e.errors())
        raise ConfigError(f"[market] ({kind}): {len(e.errors())} problem(s)\n{lines}") from None
    bot = BotContext(name="paper-serve", clock=WallClock(), seed=seed, out_dir=None,
                     mode="paper", client_ids=ClientIdFactory("srv"), instruments=instruments)
    ctx = ComponentContext(bot, "market", kind, "collectors")
    collector: Collector = entry.cls("market", config, ctx)
    return collector


def is_simulated(collector: Collector) -> bool:
    return type(collector).runs_simulated(collector.config)


def raw_instruments(collector: Collector) -> dict[str, dict[str, Any]]:
    """Bybit's own instruments-info items, when the source carries them (live or recorded)."""
    info = getattr(collector, "instruments_info", None)
    if isinstance(info, dict) and info:
        return {k: v for k, v in info.items() if isinstance(v, dict)}
    out: dict[str, dict[str, Any]] = {}
    for f in getattr(collector, "files", None) or []:
        header = getattr(f, "header", None)
        for raw in getattr(header, "instruments", None) or []:
            if isinstance(raw, dict) and isinstance(raw.get("symbol"), str):
                out.setdefault(raw["symbol"], raw)
    return out


async def run_feed(collector: Collector, market: Market, speed: float = 1.0,
                   loop_source: bool = False) -> None:
    """Feed ``market`` from ``collector`` until the source ends (or forever if live)."""
    if not is_simulated(collector):
        async def emit(batch: Sequence[Event]) -> None:
            market.apply(batch)

        await collector.run(emit)
        return
    loop = asyncio.get_running_loop()
    rounds = 0
    while True:
        rounds += 1
        t0_src: int | None = None
        t0_wall = loop.time()
        batch: list[Event] = []
        n = 0
        for ev in collector.events():
            n += 1
            t = ev.ts or ev.recv_ts
            if t0_src is None:
                t0_src = t
            wait = t0_wall + (t - t0_src) / NS / speed - loop.time()
            if wait > 0:
                if batch:
                    market.apply(batch)
                    batch = []
                await asyncio.sleep(wait)
            batch.append(ev)
            if len(batch) >= _BATCH:
                market.apply(batch)
                batch = []
                await asyncio.sleep(0)
        if batch:
            market.apply(batch)
        log.info("market source %s ended after %d events (round %d)", collector.id, n, rounds)
        if not loop_source or n == 0:
            return
