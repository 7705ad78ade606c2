"""What the paper venue tells the bot, and when.

Owned here: the queue of responses (order updates, fills, position and balance updates),
each with its delivery time, and the venue *step*: everything one request or one market
event causes is delivered at one time (the step's time plus one response-latency draw,
never before an earlier response) and coalesced as Bybit pushes it: one order update per
order touched, then one position update per symbol, then the balances of the assets that
changed. The executor hands responses to the bot when its clock reaches their time.
"""

from __future__ import annotations

import itertools
from collections import deque
from decimal import Decimal

from hayate.events import BalanceUpdate, Event, OrderUpdate, PositionUpdate
from hayate.instruments import Instrument
from hayate_paper.account import Account
from hayate_paper.latency import Sampler
from hayate_paper.margin import Margin
from hayate_paper.venue_state import SimOrder, SymbolState

__all__ = ["Responses"]

_ZERO = Decimal(0)


class Responses:
    """The response queue and step of one paper venue (see the module docstring)."""

    def __init__(self, *, venue: str, account: Account, margin: Margin,
                 response_latency: Sampler, spot_position_updates: bool) -> None:
        self.venue = venue
        self.account = account
        self.margin = margin
        self.response_latency = response_latency
        self.spot_position_updates = spot_position_updates
        # (delivery time, sequence, event); the sequence is shared with the executor's
        # market-data queue so that equal delivery times keep the venue's order.
        self.queue: deque[tuple[int, int, Event]] = deque()
        self.seq = itertools.count()
        self._last = 0
        self._delivery: int | None = None
        self.step_time = 0
        self.touched_orders: dict[str, SimOrder] = {}
        self.touched_symbols: dict[str, SymbolState] = {}
        self.touched_assets: dict[str, None] = {}

    def begin(self, t: int) -> None:
        """A venue step at exchange time ``t`` begins."""
        self.step_time = t
        self._delivery = None
        self.margin.invalidate()

    def end(self) -> None:
        """Flush the step: one order update per touched order, then positions, balances."""
        if self.touched_orders:
            for o in self.touched_orders.values():
                self.order_update(o)
            self.touched_orders.clear()
        if self.touched_symbols:
            for st in self.touched_symbols.values():
                self.position_update(st)
            self.touched_symbols.clear()
        if self.touched_assets:
            self.balance_updates(list(self.touched_assets))
            self.touched_assets.clear()

    def deliver_at(self) -> int:
        """One delivery time per step: its responses arrive as one push."""
        d = self._delivery
        if d is None:
            d = self.step_time + self.response_latency()
            if d < self._last:
                d = self._last
            self._last = d
            self._delivery = d
        return d

    def push(self, ev: Event) -> None:
        self.queue.append((ev.recv_ts, next(self.seq), ev))

    def touch_funds(self, inst: Instrument) -> None:
        """The balances ``inst`` trades in changed: report them at the end of the step."""
        base, quote, settle = self.account.register(inst)
        if inst.category == "spot":
            self.touched_assets[base] = None
            self.touched_assets[quote] = None
        else:
            self.touched_assets[settle] = None

    def order_update(self, o: SimOrder, reason: str = "") -> None:
        inst = o.inst
        d = self.deliver_at()
        avg = None
        if o.filled:
            avg = (Decimal(o.notional) / o.filled).scaleb(-inst.price_decimals)
            avg = avg.quantize(Decimal(1).scaleb(-inst.price_decimals - 4))
        self.push(OrderUpdate(
            ts=self.step_time, recv_ts=d, symbol=o.symbol, client_id=o.client_id,
            order_id=o.order_id, side=o.side, status=o.status, price=o.price,
            qty=inst.qty(o.qty), filled_qty=inst.qty(o.filled), avg_price=avg,
            order_type=o.order_type.value, time_in_force=o.tif.value,
            reduce_only=o.reduce_only, reason=reason, venue=self.venue,
        ))

    def position_update(self, st: SymbolState) -> None:
        inst = st.inst
        if inst is None or (inst.category == "spot" and not self.spot_position_updates):
            return
        pos = self.account.position(st.symbol)
        m2 = st.mark_units2()
        mark = None if m2 is None else (Decimal(m2) / 2).scaleb(-inst.price_decimals)
        self.push(PositionUpdate(
            ts=self.step_time, recv_ts=self.deliver_at(), symbol=st.symbol, size=pos.size,
            entry_price=pos.avg_price, realized_pnl=pos.realized_pnl,
            unrealized_pnl=pos.unrealized_pnl(mark), mark_price=mark, venue=self.venue,
        ))

    def balance_updates(self, assets: list[str]) -> None:
        acct = self.account
        settle = acct.settle_asset
        avail_margin: Decimal | None = None
        for asset in sorted(assets):
            total = acct.wallet.get(asset, _ZERO)
            if asset == settle:
                if avail_margin is None:
                    self.margin.invalidate()  # cancels and fills in this step released margin
                    avail_margin = self.margin.available()
                available = min(total - acct.locked.get(asset, _ZERO), avail_margin)
            else:
                available = acct.free(asset)
            self.push(BalanceUpdate(ts=self.step_time, recv_ts=self.deliver_at(), asset=asset,
                                    total=total, available=available, venue=self.venue))
