"""CPU cost of one requote of ``mm.simple`` and of the order bookkeeping it causes.

    python benchmarks/bench_requote.py [--requotes 20000] [--rounds 5]

A requote here is what ``benchmarks/bench_tick_to_trade.py`` drives live: the touch moves
by two ticks, so the market maker cancels its quotes and places new ones. Each cycle:

1. a book delta that moves the mid (applied to the book state, not timed);
2. **strategy requote**: ``on_event`` for it, which returns the cancels and placements;
3. **order manager, actions**: the account records them (``PendingCancel``/``PendingNew``);
4. **acks**: the venue's answers (``New``, ``Cancelled``) go through the account and then
   the strategy, as the engine delivers them.

Baseline, measured in the same run over the same states and view: ``on_event`` for a
book delta that leaves the mid alone (the strategy's no-change path). Every figure is the
mean per cycle of the best round (the least disturbed by other processes), in µs and as a
multiple of the baseline.

Scenarios: ``tick-to-trade`` (one level a side, the configuration of
``bench_tick_to_trade.py``: cancel two quotes, place two) and ``demo`` (two levels a side
with a position limit and a position, as in ``examples/paper.toml``).
"""

from __future__ import annotations

import argparse
import gc
import logging
import time
from decimal import Decimal
from typing import Any

from hayate.actions import CancelOrder, PlaceOrder
from hayate.events import BookDelta, BookSnapshot, Fill, Liquidity, OrderStatus, OrderUpdate
from hayate.instruments import Instrument
from hayate_strategies.market_making import SimpleMarketMaker
from hayate_testing.market import T0, ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"))
MID = 300_000  # price units (30,000.0)
STEP = 1_000_000  # ns between events

SCENARIOS: dict[str, dict[str, Any]] = {
    "tick-to-trade": {"spread_bps": 10, "order_qty": "0.01", "levels": 1,
                      "requote_threshold_ticks": 1, "max_position": "1"},
    "demo": {"spread_bps": 1, "order_qty": "0.005", "levels": 2, "level_spacing_bps": 0.5,
             "requote_threshold_ticks": 1, "max_position": "0.05", "skew_bps_per_unit": 20},
}


def _update(o: Any, status: OrderStatus, ts: int) -> OrderUpdate:
    return OrderUpdate(ts=ts, recv_ts=ts, symbol=o.symbol, client_id=o.client_id,
                       order_id="o-" + o.client_id, side=o.side, status=status, price=o.price,
                       qty=o.qty, filled_qty=o.filled_qty, time_in_force=o.time_in_force)


class Rig:
    """The market maker over real book and account states, driven cycle by cycle."""

    def __init__(self, cfg: dict[str, Any], position: str | None) -> None:
        m = self.m = ScriptedMarket([BTC], auto_ack=False)
        self.s = m.add_strategy(SimpleMarketMaker, symbol="BTCUSDT", **cfg)
        self.ts = T0
        self.up = False
        snap = BookSnapshot(symbol="BTCUSDT", ts=self.ts, recv_ts=self.ts,
                            bids=[(MID - 1 - i, 5000) for i in range(50)],
                            asks=[(MID + i, 5000) for i in range(50)])
        m.books.apply(snap)
        if position:
            self.ts += STEP
            m.clock.advance(self.ts)
            m.account.apply(Fill(ts=self.ts, recv_ts=self.ts, symbol="BTCUSDT", client_id="",
                                 order_id="x", fill_id="pos", side=_side(position),
                                 price=BTC.price(MID), qty=abs(Decimal(position)), fee=Decimal(0),
                                 liquidity=Liquidity.MAKER))
        for _ in range(3):
            self.cycle()

    def _next(self) -> int:
        self.ts += STEP
        self.m.clock.advance(self.ts)
        return self.ts

    def move(self) -> BookDelta:
        """The touch moves two ticks (alternately up and down)."""
        ts = self._next()
        self.up = not self.up
        if self.up:  # bids and asks two ticks higher
            bids = [(MID, 5000), (MID + 1, 5000)]
            asks = [(MID, 0), (MID + 1, 0), (MID + 50, 5000), (MID + 51, 5000)]
        else:
            bids = [(MID, 0), (MID + 1, 0), (MID - 51, 5000), (MID - 52, 5000)]
            asks = [(MID, 5000), (MID + 1, 5000)]
        return BookDelta(symbol="BTCUSDT", ts=ts, recv_ts=ts, bids=bids, asks=asks)

    def still(self) -> BookDelta:
        """A size change deeper in the book: the mid stays."""
        ts = self._next()
        return BookDelta(symbol="BTCUSDT", ts=ts, recv_ts=ts, bids=[(MID - 20, 4000 + ts % 97)],
                         asks=[])

    def cycle(self, t: list[int] | None = None) -> None:
        """One requote; adds its ns to ``t`` = [strategy, order manager, acks]."""
        m, s, view = self.m, self.s, self.m.view
        pc = time.perf_counter_ns
        ev = self.move()
        m.books.apply(ev)
        m.account.apply(ev)
        t0 = pc()
        acts = s.on_event(ev, view)
        t1 = pc()
        on_action = m.account.on_action
        for a in acts:
            on_action(a)
        t2 = pc()
        if t is not None and len(acts) != 2 * sum(isinstance(a, PlaceOrder) for a in acts):
            raise AssertionError(f"not a cancel-and-replace: {acts}")
        ts = self._next()
        orders = m.account.orders
        acks = []
        for a in acts:
            o = orders.get(a.client_id)
            if o is None:
                continue
            status = OrderStatus.CANCELLED if isinstance(a, CancelOrder) else OrderStatus.NEW
            acks.append(_update(o, status, ts))
        apply = m.account.apply
        t3 = pc()
        for ack in acks:
            apply(ack)
            if s.on_event(ack, view):
                raise AssertionError("an acknowledgement made the strategy act")
        t4 = pc()
        if t is not None:
            t[0] += t1 - t0
            t[1] += t2 - t1
            t[2] += t4 - t3

    def still_cost(self, n: int) -> int:
        m, s, view = self.m, self.s, self.m.view
        pc = time.perf_counter_ns
        total = 0
        for _ in range(n):
            ev = self.still()
            m.books.apply(ev)
            m.account.apply(ev)
            t0 = pc()
            if s.on_event(ev, view):
                raise AssertionError("a size change made the strategy act")
            total += pc() - t0
        return total


def _side(position: str) -> Any:
    from hayate.events import Side

    return Side.SELL if position.startswith("-") else Side.BUY


def measure(cfg: dict[str, Any], position: str | None, n: int, rounds: int
            ) -> tuple[float, float, float, float]:
    """(baseline, strategy, order manager, acks), ns per cycle, best round of each."""
    rig = Rig(cfg, position)
    best = [float("inf")] * 4
    for _ in range(rounds):
        gc.collect()
        base = rig.still_cost(n) / n
        t = [0, 0, 0]
        for _ in range(n):
            rig.cycle(t)
        for i, v in enumerate([base, *(x / n for x in t)]):
            best[i] = min(best[i], v)
    return best[0], best[1], best[2], best[3]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requotes", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    print(f"mm.simple requote (cancel + place), {args.requotes:,} cycles x {args.rounds} rounds, "
          "best round, µs per cycle (x the no-change baseline)")
    for name, position in [("tick-to-trade", None), ("demo", "0.012")]:
        base, strat, om, acks = measure(SCENARIOS[name], position, args.requotes, args.rounds)
        label = f"{name}" + (f", position {position}" if position else "")
        print(f"{label}")
        print(f"   no-change on_event (baseline)  {base / 1e3:7.2f} µs")
        for what, v in [("strategy requote", strat), ("order manager: the actions", om),
                        ("acks: account + strategy", acks),
                        ("total", strat + om + acks)]:
            print(f"   {what:<30} {v / 1e3:7.2f} µs  (x{v / base:.1f})")


if __name__ == "__main__":
    main()
