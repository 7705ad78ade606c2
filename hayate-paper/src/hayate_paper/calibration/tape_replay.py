"""Run a twin again over a shadow run's tape, with any paper-exchange settings.

The tape (:mod:`hayate.shadow.tape`) holds what the twin was fed: the market data in the
order the bot received it and the actions sent to the live venue with their send times.
:func:`replay` feeds them to a fresh ``paper.exchange`` twin built from ``settings`` and
returns each order's outcome on it. With the settings the twin ran with (and the run's
seed) it reproduces the twin's outcomes exactly; ``latencies`` replaces the model's
latency draws by the latencies the live venue showed, per request, so that a queue model
is judged on its own (:mod:`.fit_run`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hayate.actions import AmendOrder, CancelOrder, PlaceOrder
from hayate.clock import SimClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import Fill, OrderUpdate
from hayate.instruments import InstrumentRegistry
from hayate.shadow.outcomes import ShadowOrder
from hayate.shadow.tape import Record, TapeAction, TapeHeader, TapeMarket, read_tape
from hayate_paper.executor import PaperExchangeConfig, PaperExchangeExecutor

__all__ = ["Tape", "load_tape", "replay"]


@dataclass
class Tape:
    """A tape in memory: its header and records (market data and actions, in order)."""

    path: Path
    header: TapeHeader
    records: list[Record]

    def twin(self, twin_id: str) -> Mapping[str, Any]:
        return self.header.twins[twin_id]


def load_tape(path: Path) -> Tape:
    records = iter(read_tape(path))
    header = next(records, None)
    if not isinstance(header, TapeHeader):
        raise ValueError(f"{path}: not a shadow tape (no header)")
    return Tape(path, header, list(records))


def replay(tape: Tape, twin_id: str, settings: Mapping[str, Any], *, seed: int = 0,
           latencies: Mapping[tuple[str, str], int] | None = None,
           only: Iterable[str] | None = None) -> dict[str, ShadowOrder]:
    """Each order's outcome (``order.twin``) on a twin with ``settings`` (the keys of a
    ``paper.exchange`` table; ``seed`` mixed in as its ``seed``). ``latencies`` maps
    ``("place" | "cancel" | "amend", client_id)`` to the latency to use (ns)."""
    info = tape.twin(twin_id)
    venue, sources = info["venue"], set(info["sources"])
    config = PaperExchangeConfig.model_validate({
        **{k: v for k, v in settings.items() if k not in ("type", "shadow_of", "source")},
        "type": "paper.exchange", "source": next(iter(sorted(sources))), "shadow_of": venue,
        "seed": seed})
    instruments = InstrumentRegistry(list(tape.header.instruments))
    bot = BotContext(name="calibrate", clock=SimClock(), seed=tape.header.seed, out_dir=None,
                     mode="paper", client_ids=ClientIdFactory("cal"), instruments=instruments)
    ex = PaperExchangeExecutor(twin_id, config, ComponentContext(bot, twin_id, "paper.exchange",
                                                                 "executors"))
    twin = ex.twin
    assert twin is not None
    for inst in instruments:
        ex.exchange.state(inst.symbol)
    orders: dict[str, ShadowOrder] = {}
    wanted = None if only is None else set(only)

    def collect() -> None:
        for ev in twin.take():
            if isinstance(ev, OrderUpdate | Fill):
                o = orders.get(ev.client_id)
                if o is None:
                    continue
                if isinstance(ev, Fill):
                    o.twin.on_fill(ev)
                else:
                    o.twin.on_update(ev)

    for rec in tape.records:
        if isinstance(rec, TapeMarket):
            if rec.source in sources:
                twin.market(rec.event)
                collect()
        elif isinstance(rec, TapeAction) and rec.venue == venue:
            a = rec.action
            fixed: int | None = None
            if isinstance(a, PlaceOrder):
                if wanted is None or a.client_id in wanted:
                    orders.setdefault(a.client_id, ShadowOrder(a, rec.sent))
                kind = "place"
            elif isinstance(a, CancelOrder):
                kind = "cancel"
            elif isinstance(a, AmendOrder):
                kind = "amend"
            else:
                kind = ""
            if latencies is not None and kind:
                fixed = latencies.get((kind, getattr(a, "client_id", "")))
            twin.submit((a,), rec.sent, None if fixed is None else (fixed,))
            collect()
    twin.finish()
    collect()
    return orders

