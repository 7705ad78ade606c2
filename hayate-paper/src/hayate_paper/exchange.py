"""The paper matching engine: our orders against the market as the data shows it.

The engine keeps, per symbol, the venue's book as of *exchange time* (the data's venue
time, before any market-data latency) and our own orders. It is driven by two calls:

- :meth:`PaperExchange.on_market` with each market event at its exchange time: the book is
  updated, resting orders advance in their queues and fill from trades at or through their
  price, and fill when the opposite side of the book crosses their price;
- :meth:`PaperExchange.on_action` with each request at its arrival time (send time plus
  the entry or cancel latency): the order sees the book as of then.

Responses (order updates, fills, position and balance updates) are appended, with their
delivery time, to :attr:`PaperExchange.responses`; the executor hands them to the bot when
the simulated (or wall) clock reaches that time. Prices and sizes are integer units of the
instrument inside the engine, ``Decimal`` on the events.

This module owns matching: placing, amending and cancelling against the book, queue
positions, fills from trades and crosses, taker walks. Beside it: :mod:`.venue_state`
(what the venue holds per order and per symbol), :mod:`.margin` (funds checks, order
margin, spot locks), :mod:`.responses` (what the venue says and when), :mod:`.account`
(wallet, positions, fees).

**Our taker orders and the book.** A taker fill removes the liquidity it took from the
engine's view of the book: the taken size is remembered per price level ("consumed") and
subtracted from what the data shows, so the same resting size is never sold to us twice
(by a second order, or a crossing check). The data does not know about us, so a consumed
amount is kept until the feed deletes the level or a snapshot replaces the book, and it is
capped by the level's size whenever the feed shrinks it (the shrink may be the very
liquidity we took). Other participants never react to our orders (no market impact beyond
the consumed liquidity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import takewhile
from typing import Any

from hayate.actions import (
    Action,
    AmendOrder,
    CancelAll,
    CancelOrder,
    OrderType,
    PlaceOrder,
    TimeInForce,
)
from hayate.events import (
    BookDelta,
    BookSnapshot,
    Event,
    Fill,
    Liquidity,
    OrderStatus,
    OrderUpdate,
    Side,
    Trade,
)
from hayate.exceptions import InvalidNumber
from hayate.instruments import Instrument, InstrumentRegistry
from hayate_paper.account import Account
from hayate_paper.fill_model import FillModel
from hayate_paper.latency import Sampler
from hayate_paper.margin import Margin
from hayate_paper.queue import QueueModel
from hayate_paper.responses import Responses
from hayate_paper.rules import VenueRules
from hayate_paper.venue_state import SimOrder, SymbolState

__all__ = ["PaperExchange", "SimOrder", "SymbolState"]

_ZERO = Decimal(0)
_BUY = Side.BUY
_SELL = Side.SELL
_NEW = OrderStatus.NEW
_PARTIAL = OrderStatus.PARTIALLY_FILLED
_FILLED = OrderStatus.FILLED
_REJECTED = OrderStatus.REJECTED
_CANCELLED = OrderStatus.CANCELLED


FillSink = Callable[[Fill, int], None]


class PaperExchange:
    """Venue-neutral matching engine and account, clock-agnostic (see the module doc)."""

    def __init__(
        self,
        *,
        instruments: InstrumentRegistry,
        account: Account,
        rules: VenueRules,
        queue: QueueModel,
        response_latency: Sampler,
        fill_on_cross: bool = True,
        market_protection_bps: Decimal | None = None,
        balance_on_order_change: bool = True,
        spot_position_updates: bool = False,
        fill_model: FillModel | None = None,
        on_fill: FillSink | None = None,
        on_count: Callable[[str], None] | None = None,
    ) -> None:
        self.instruments = instruments
        self.account = account
        self.rules = rules
        self.venue = rules.venue
        self.queue = queue
        self.response_latency = response_latency
        self.fill_on_cross = fill_on_cross
        self.market_protection_bps = market_protection_bps
        self.balance_on_order_change = balance_on_order_change
        self.spot_position_updates = spot_position_updates
        # Fill-model switches (hayate_paper.fill_model): whole fills, our depletion.
        fm = fill_model or FillModel()
        self.whole_fills = not fm.partial_fills
        self.depletion = fm.depletion()
        self._decay = self.depletion.decays
        self.on_fill = on_fill
        self.count = on_count or (lambda name: None)
        self.symbols: dict[str, SymbolState] = {}
        self.orders: dict[str, SimOrder] = {}  # open orders by client id
        self.margin = Margin(account, self.symbols, self.marks)
        self.out = Responses(venue=self.venue, account=account, margin=self.margin,
                             response_latency=response_latency,
                             spot_position_updates=spot_position_updates)
        self.responses = self.out.queue
        self.seq = self.out.seq
        self._order_seq = 0
        self._fill_seq = 0
        self._reduce_only_open = 0
        # figures
        self.n_orders = 0
        self.n_rejected = 0
        self.n_cancelled = 0
        self.n_fills = 0
        self.n_maker = 0
        self.n_taker = 0
        self.peak_pnl: Decimal | None = None
        self.max_drawdown = _ZERO

    # -- symbols ---------------------------------------------------------------------------------
    def state(self, symbol: str) -> SymbolState:
        st = self.symbols.get(symbol)
        if st is None:
            inst = self.instruments.get(symbol)
            st = self.symbols[symbol] = SymbolState(symbol, inst)
            if inst is not None:
                self.account.register(inst)
        elif st.inst is None:
            st.inst = self.instruments.get(symbol)
            if st.inst is not None:
                self.account.register(st.inst)
        return st

    def marks(self) -> dict[str, Decimal | None]:
        out: dict[str, Decimal | None] = {}
        for sym, st in self.symbols.items():
            m2 = st.mark_units2()
            if m2 is None or st.inst is None:
                out[sym] = None
            else:
                out[sym] = (Decimal(m2) / 2).scaleb(-st.inst.price_decimals)
        return out

    # -- actions ---------------------------------------------------------------------------------
    def on_action(self, action: Action, t: int) -> None:
        """Process one request at its arrival time ``t``."""
        self.on_actions((action,), t)

    def on_actions(self, actions: Sequence[Action], t: int) -> None:
        """Process requests that arrive together (one venue step: their balance changes
        are reported once, as one push)."""
        self.out.begin(t)
        try:
            for action in actions:
                tp = type(action)
                if tp is PlaceOrder:
                    self._place(action, t)  # type: ignore[arg-type, unused-ignore]
                elif tp is CancelOrder:
                    self._cancel_request(action, t)  # type: ignore[arg-type, unused-ignore]
                elif tp is AmendOrder:
                    self._amend(action, t)  # type: ignore[arg-type, unused-ignore]
                elif tp is CancelAll:
                    sym = action.symbol  # type: ignore[attr-defined, unused-ignore]
                    for o in [o for o in self.orders.values() if not sym or o.symbol == sym]:
                        self._cancel(o, self.rules.user_cancel)
                else:
                    self.count("paper_unknown_actions")
        finally:
            self.out.end()

    def cancel_all_open(self, t: int) -> int:
        self.out.begin(t)
        n = len(self.orders)
        for o in list(self.orders.values()):
            self._cancel(o, self.rules.user_cancel)
        self.out.end()
        return n

    def _reject(self, action: PlaceOrder, reason: str, inst: Instrument | None) -> None:
        self.n_rejected += 1
        self.count("paper_rejected")
        self._order_seq += 1
        q = action.qty
        self.out.push(OrderUpdate(
            ts=self.out.step_time, recv_ts=self.out.deliver_at(), symbol=action.symbol,
            client_id=action.client_id, order_id=f"paper-{self._order_seq}", side=action.side,
            status=_REJECTED, price=action.price, qty=q, filled_qty=_ZERO,
            order_type=action.order_type.value, time_in_force=action.time_in_force.value,
            reduce_only=action.reduce_only, reason=reason, venue=self.venue,
        ))

    def _place(self, a: PlaceOrder, t: int) -> None:
        self.n_orders += 1
        rules = self.rules
        st = self.state(a.symbol)
        inst = st.inst
        if inst is None:
            self._reject(a, rules.unknown_symbol.format(symbol=a.symbol), None)
            return
        if self._decay:
            self.depletion.expire(st, t)
        if inst.category not in ("linear", "spot"):
            # Inverse and option accounting are not simulated: refuse rather than misreport.
            self._reject(a, rules.unsupported.format(
                detail=f"{inst.category} instruments are not simulated"), inst)
            return
        if a.client_id in self.orders:
            self._reject(a, rules.duplicate_client_id, inst)
            return
        if st.resting >= rules.max_open_orders:
            self._reject(a, rules.too_many_orders, inst)
            return
        is_market = a.order_type is OrderType.MARKET
        if is_market and a.time_in_force is TimeInForce.POST_ONLY:
            self._reject(a, rules.unsupported.format(detail="a market order cannot be PostOnly"),
                         inst)
            return
        problem = inst.check_order(a.qty, None if is_market else a.price)
        if problem is None and a.reduce_only and inst.category == "spot":
            problem = "reduce-only is not available for spot"
        if problem is not None:
            self._reject(a, rules.invalid_order.format(detail=problem), inst)
            return
        try:
            qty_u = inst.qty_units(a.qty)
            px = None if is_market or a.price is None else inst.price_units(a.price)
        except InvalidNumber as e:
            self._reject(a, rules.invalid_order.format(detail=str(e)), inst)
            return
        is_buy = a.side is _BUY
        if a.reduce_only:
            room = -st.pos if is_buy else st.pos
            if room <= 0:
                self._reject(a, rules.reduce_only_reject, inst)
                return
            if qty_u > room:
                qty_u = room  # the venue trims a reduce-only order to the position
        # Funds: the price the order may trade at (its limit, or the book for a market order).
        est_px = px
        if est_px is None:
            est_px = self._market_estimate(st, is_buy, qty_u)
            if est_px is None:
                self._order_seq += 1
                o = SimOrder(a, f"paper-{self._order_seq}", inst, qty_u, None, t)
                o.status = _CANCELLED
                self.n_cancelled += 1
                self.out.order_update(o, rules.market_no_liquidity)
                return
        if not a.reduce_only and not self.margin.has_funds(st, inst, is_buy, qty_u, est_px):
            self._reject(a, rules.insufficient_balance, inst)
            return
        self._order_seq += 1
        o = SimOrder(a, f"paper-{self._order_seq}", inst, qty_u, px, t)
        self._execute_new(st, o, is_market)

    def _market_estimate(self, st: SymbolState, is_buy: bool, qty_u: int) -> int | None:
        """Worst price a market order of ``qty_u`` would reach (None: empty book)."""
        worst = None
        left = qty_u
        consumed = st.consumed_asks if is_buy else st.consumed_bids
        for p, q in (st.book.iter_asks() if is_buy else st.book.iter_bids()):
            eff = q - consumed.get(p, 0)
            if eff <= 0:
                continue
            worst = p
            left -= eff
            if left <= 0:
                break
        return worst

    def _execute_new(self, st: SymbolState, o: SimOrder, is_market: bool) -> None:
        """Match a new (or re-priced) order: take what crosses, then rest or cancel."""
        rules = self.rules
        tif = o.tif
        limit = o.px
        if is_market:
            prot = self.market_protection_bps
            if prot is not None:
                ref = st.book.best_ask if o.is_buy else st.book.best_bid
                if ref is not None:
                    f = prot / Decimal(10_000)
                    lim = Decimal(ref) * (1 + f if o.is_buy else 1 - f)
                    limit = int(lim) if o.is_buy else -int(-lim)
        crosses = self._crossable(st, o.is_buy, limit)
        if tif is TimeInForce.POST_ONLY and crosses > 0:
            o.status = _CANCELLED
            self.n_cancelled += 1
            self.out.order_update(o, rules.post_only_would_take)
            return
        if tif is TimeInForce.FOK and crosses < o.leaves:
            o.status = _CANCELLED
            self.n_cancelled += 1
            self.out.order_update(o, rules.fok_not_filled)
            return
        if crosses > 0:
            self._take(st, o, limit)
        if o.leaves <= 0 or o.status is _FILLED:
            self.out.touched_orders.pop(o.client_id, None)
            self.out.order_update(o)
            return
        if o.reduce_only and self._fillable(st, o) <= 0:
            o.status = rules.cancelled_status(o.inst.category, o.filled > 0)
            self.n_cancelled += 1
            self.out.touched_orders.pop(o.client_id, None)
            self.out.order_update(o, rules.reduce_only_cancel)
            return
        if is_market or tif is TimeInForce.IOC or tif is TimeInForce.FOK:
            reason = rules.market_no_liquidity if is_market else rules.ioc_remainder
            o.status = rules.cancelled_status(o.inst.category, o.filled > 0)
            self.n_cancelled += 1
            self.out.touched_orders.pop(o.client_id, None)
            self.out.order_update(o, reason)
            return
        self._rest(st, o)
        self.out.touched_orders.pop(o.client_id, None)
        self.out.order_update(o)
        if self.balance_on_order_change:
            self.out.touch_funds(o.inst)

    def _crossable(self, st: SymbolState, is_buy: bool, limit: int | None) -> int:
        """Size the opposite side offers at or better than ``limit`` (after what we took)."""
        book = st.book
        # Most orders do not cross at all: the best price says so without walking the
        # side (which, after levels came or went, would first sort its prices).
        if limit is not None:
            best = book.best_ask if is_buy else book.best_bid
            if best is None or (best > limit if is_buy else best < limit):
                return 0
        total = 0
        if is_buy:
            consumed = st.consumed_asks
            for p, q in book.iter_asks():
                if limit is not None and p > limit:
                    break
                eff = q - consumed.get(p, 0) if consumed else q
                if eff > 0:
                    total += eff
        else:
            consumed = st.consumed_bids
            for p, q in book.iter_bids():
                if limit is not None and p < limit:
                    break
                eff = q - consumed.get(p, 0) if consumed else q
                if eff > 0:
                    total += eff
        return total

    def _take(self, st: SymbolState, o: SimOrder, limit: int | None) -> None:
        """Walk the opposite side level by level (taker fills, never beyond ``limit``)."""
        if o.is_buy:
            consumed = st.consumed_asks
            levels = st.book.iter_asks()
        else:
            consumed = st.consumed_bids
            levels = st.book.iter_bids()
        for p, q in levels:
            if limit is not None and (p > limit if o.is_buy else p < limit):
                break
            eff = q - consumed.get(p, 0)
            if eff <= 0:
                continue
            want = self._fillable(st, o)
            if want <= 0:
                break
            take = eff if eff < want else want
            self.depletion.record(st, o.is_buy, p, take, self.out.step_time)
            self._fill(st, o, p, take, Liquidity.TAKER)
            if o.status is not _PARTIAL:
                break

    def _fillable(self, st: SymbolState, o: SimOrder) -> int:
        leaves = o.qty - o.filled
        if o.reduce_only:
            room = -st.pos if o.is_buy else st.pos
            if room < leaves:
                return room if room > 0 else 0
        return leaves

    def _rest(self, st: SymbolState, o: SimOrder) -> None:
        px = o.px
        assert px is not None
        if o.is_buy:
            level = st.our_bids.get(px)
            visible = st.book.bids.get(px, 0) - st.consumed_bids.get(px, 0)
            if level is None:
                level = st.our_bids[px] = []
                st.traded_bids[px] = 0
            if st.best_bid is None or px > st.best_bid:
                st.best_bid = px
            st.open_buy += o.leaves
            st.open_buy_notional += o.leaves * px
        else:
            level = st.our_asks.get(px)
            visible = st.book.asks.get(px, 0) - st.consumed_asks.get(px, 0)
            if level is None:
                level = st.our_asks[px] = []
                st.traded_asks[px] = 0
            if st.best_ask is None or px < st.best_ask:
                st.best_ask = px
            st.open_sell += o.leaves
            st.open_sell_notional += o.leaves * px
        o.ahead = visible if visible > 0 else 0
        level.append(o)
        st.resting += 1
        if o.reduce_only:
            self._reduce_only_open += 1
        self.orders[o.client_id] = o
        if o.inst.category == "spot":
            self.margin.lock_spot(o)

    def _unrest(self, st: SymbolState, o: SimOrder) -> None:
        """Take a resting order off the book (it was filled, cancelled or is re-priced)."""
        px = o.px
        assert px is not None
        if o.is_buy:
            level = st.our_bids[px]
            level.remove(o)
            st.open_buy -= o.leaves
            st.open_buy_notional -= o.leaves * px
            if not level:
                del st.our_bids[px]
                st.traded_bids.pop(px, None)
                if px == st.best_bid:
                    st.best_bid = max(st.our_bids) if st.our_bids else None
        else:
            level = st.our_asks[px]
            level.remove(o)
            st.open_sell -= o.leaves
            st.open_sell_notional -= o.leaves * px
            if not level:
                del st.our_asks[px]
                st.traded_asks.pop(px, None)
                if px == st.best_ask:
                    st.best_ask = min(st.our_asks) if st.our_asks else None
        st.resting -= 1
        if o.reduce_only:
            self._reduce_only_open -= 1
        self.orders.pop(o.client_id, None)

    def _cancel(self, o: SimOrder, reason: str) -> None:
        st = self.symbols[o.symbol]
        leaves = o.leaves
        self._unrest(st, o)
        if o.locked:
            self.margin.unlock_spot(o, leaves, 0)
        o.status = self.rules.cancelled_status(o.inst.category, o.filled > 0)
        self.n_cancelled += 1
        self.out.touched_orders.pop(o.client_id, None)
        self.out.order_update(o, reason)
        if self.balance_on_order_change:
            self.out.touch_funds(o.inst)

    def _cancel_request(self, a: CancelOrder, t: int) -> None:
        o = self.orders.get(a.client_id)
        if o is None:
            # Already final (its final update is on its way) or never known: nothing to say.
            self.count("paper_cancel_unknown")
            return
        self._cancel(o, self.rules.user_cancel)

    def _amend(self, a: AmendOrder, t: int) -> None:
        o = self.orders.get(a.client_id)
        if o is None:
            self.count("paper_amend_unknown")
            return
        st = self.symbols[o.symbol]
        if self._decay:
            self.depletion.expire(st, t)
        inst = o.inst
        new_qty = a.qty if a.qty is not None else inst.qty(o.qty)
        new_price = a.price if a.price is not None else o.price
        problem = inst.check_order(new_qty, new_price)
        if problem is None and (a.qty is None and a.price is None):
            problem = "nothing to amend"
        try:
            qty_u = inst.qty_units(new_qty)
            px = inst.price_units(new_price) if new_price is not None else o.px
        except InvalidNumber as e:
            problem = str(e)
        if problem is None and qty_u <= o.filled:
            problem = f"qty {new_qty} is not above the filled qty {inst.qty(o.filled)}"
        if problem is not None:
            self.count("paper_amend_rejected")
            self.out.order_update(o, self.rules.invalid_order.format(detail=problem))
            return
        leaves_before = o.leaves
        if px == o.px and qty_u <= o.qty:
            # A smaller size keeps the queue position.
            delta = o.qty - qty_u
            o.qty = qty_u
            if o.is_buy:
                st.open_buy -= delta
                st.open_buy_notional -= delta * o.px  # type: ignore[operator, unused-ignore]
            else:
                st.open_sell -= delta
                st.open_sell_notional -= delta * o.px  # type: ignore[operator, unused-ignore]
            if o.locked:
                self.margin.unlock_spot(o, leaves_before, o.leaves)
            self.out.order_update(o)
            if self.balance_on_order_change:
                self.out.touch_funds(inst)
            return
        # A new price or a larger size: the order loses its place and is matched again.
        self._unrest(st, o)
        if o.locked:
            self.margin.unlock_spot(o, leaves_before, 0)
        o.qty = qty_u
        o.px = px
        o.price = new_price
        self._execute_amended(st, o)

    def _execute_amended(self, st: SymbolState, o: SimOrder) -> None:
        if o.tif is TimeInForce.POST_ONLY and self._crossable(st, o.is_buy, o.px) > 0:
            o.status = self.rules.cancelled_status(o.inst.category, o.filled > 0)
            self.n_cancelled += 1
            self.out.order_update(o, self.rules.post_only_would_take)
            return
        if self._crossable(st, o.is_buy, o.px) > 0:
            self._take(st, o, o.px)
        if o.leaves <= 0 or o.status is _FILLED:
            self.out.touched_orders.pop(o.client_id, None)
            self.out.order_update(o)
            return
        o.status = _PARTIAL if o.filled else _NEW
        self._rest(st, o)
        self.out.touched_orders.pop(o.client_id, None)
        self.out.order_update(o)
        if self.balance_on_order_change:
            self.out.touch_funds(o.inst)

    # -- fills -----------------------------------------------------------------------------------
    def _fill(self, st: SymbolState, o: SimOrder, px: int, qty_u: int, liq: Liquidity) -> None:
        inst = o.inst
        resting = o.client_id in self.orders and liq is Liquidity.MAKER
        leaves_before = o.qty - o.filled
        o.filled += qty_u
        o.notional += px * qty_u
        price = o.price if px == o.px and o.price is not None else inst.price(px)
        qty = inst.qty(qty_u)
        charge = self.account.apply_fill(inst, o.side, price, qty, liq)
        self.margin.invalidate()
        st.pos += qty_u if o.is_buy else -qty_u
        if resting:
            if o.is_buy:
                st.open_buy -= qty_u
                st.open_buy_notional -= qty_u * o.px  # type: ignore[operator]
            else:
                st.open_sell -= qty_u
                st.open_sell_notional -= qty_u * o.px  # type: ignore[operator]
            if o.locked:
                self.margin.unlock_spot(o, leaves_before, o.qty - o.filled)
        self._fill_seq += 1
        fill = Fill(
            ts=self.out.step_time, recv_ts=self.out.deliver_at(), symbol=o.symbol,
            client_id=o.client_id, order_id=o.order_id, fill_id=f"{o.order_id}-{self._fill_seq}",
            side=o.side, price=price, qty=qty, fee=charge.fee, fee_asset=charge.fee_asset,
            liquidity=liq, leaves_qty=inst.qty(o.qty - o.filled), venue=self.venue,
        )
        self.out.push(fill)
        self.n_fills += 1
        if liq is Liquidity.MAKER:
            self.n_maker += 1
        else:
            self.n_taker += 1
        if self.on_fill is not None:
            self.on_fill(fill, self.out.step_time)
        o.status = _FILLED if o.filled >= o.qty else _PARTIAL
        self.out.touched_orders[o.client_id] = o
        self.out.touched_symbols[o.symbol] = st
        self.out.touch_funds(inst)
        if resting and o.status is _FILLED:
            self._unrest(st, o)
        if self._reduce_only_open:
            self._trim_reduce_only(st)

    def _trim_reduce_only(self, st: SymbolState) -> None:
        """Reduce-only orders never open a position: cancel those with nothing left to reduce."""
        for o in [o for o in self.orders.values() if o.symbol == st.symbol and o.reduce_only]:
            room = -st.pos if o.is_buy else st.pos
            if room <= 0:
                self._cancel(o, self.rules.reduce_only_cancel)

    # -- market data -----------------------------------------------------------------------------
    def market_handlers(self) -> dict[type, Callable[[Any, int], None]]:
        """``{event type: handler(event, t)}`` for the hot loop (others are ignored)."""
        return {BookDelta: self._on_delta, Trade: self._on_trade, BookSnapshot: self._on_snapshot}

    def on_market(self, ev: Event, t: int) -> None:
        """Apply one market event at exchange time ``t`` and match our resting orders."""
        if type(ev) is BookDelta:
            self._on_delta(ev, t)
        elif type(ev) is Trade:
            self._on_trade(ev, t)
        elif type(ev) is BookSnapshot:
            self._on_snapshot(ev, t)

    def _on_delta(self, ev: BookDelta, t: int) -> None:
        st = self.symbols.get(ev.symbol)
        if st is None:
            st = self.state(ev.symbol)
        book = st.book
        if not st.resting:
            book.apply_delta(ev.bids, ev.asks)
            if st.consumed_bids:
                _cap_consumed(st.consumed_bids, ev.bids)
            if st.consumed_asks:
                _cap_consumed(st.consumed_asks, ev.asks)
            return
        # Sizes before the update at the prices where we rest (for the queue model).
        old_b = old_a = None
        ours = st.our_bids
        if ours:
            for p, q in ev.bids:
                if p in ours:
                    if old_b is None:
                        old_b = []
                    old_b.append((p, q, book.bids.get(p, 0)))
        ours = st.our_asks
        if ours:
            for p, q in ev.asks:
                if p in ours:
                    if old_a is None:
                        old_a = []
                    old_a.append((p, q, book.asks.get(p, 0)))
        book.apply_delta(ev.bids, ev.asks)
        if st.consumed_bids:
            _cap_consumed(st.consumed_bids, ev.bids)
        if st.consumed_asks:
            _cap_consumed(st.consumed_asks, ev.asks)
        if old_b:
            self._requeue(st.our_bids, st.traded_bids, old_b)
        if old_a:
            self._requeue(st.our_asks, st.traded_asks, old_a)
        self._check_cross(st, t)

    def _on_snapshot(self, ev: BookSnapshot, t: int) -> None:
        st = self.state(ev.symbol)
        book = st.book
        old_b = [(p, book.bids.get(p, 0)) for p in st.our_bids]
        old_a = [(p, book.asks.get(p, 0)) for p in st.our_asks]
        book.apply_snapshot(ev.bids, ev.asks)
        st.consumed_bids.clear()
        st.consumed_asks.clear()
        if old_b:
            self._requeue(st.our_bids, st.traded_bids,
                          [(p, book.bids.get(p, 0), old) for p, old in old_b])
        if old_a:
            self._requeue(st.our_asks, st.traded_asks,
                          [(p, book.asks.get(p, 0), old) for p, old in old_a])
        if st.resting:
            self._check_cross(st, t)

    def _requeue(self, ours: dict[int, list[SimOrder]], traded: dict[int, int],
                 changes: list[tuple[int, int, int]]) -> None:
        model = self.queue
        for p, new, old in changes:
            tr = traded.get(p, 0)
            if new < old:
                prev = -1
                for o in ours[p]:
                    a = model.on_decrease(o.ahead, old, new, tr)
                    # Our later orders at this price are never ahead of our earlier ones.
                    o.ahead = a if a > prev else prev
                    prev = o.ahead
            traded[p] = 0

    def _check_cross(self, st: SymbolState, t: int) -> None:
        if not self.fill_on_cross:
            return
        if self._decay:
            self.depletion.expire(st, t)
        book = st.book
        if st.best_bid is not None:
            ask = book.best_ask
            if ask is not None and ask <= st.best_bid:
                self.out.begin(t)
                self._cross(st, True)
                self.out.end()
        if st.best_ask is not None:
            bid = book.best_bid
            if bid is not None and bid >= st.best_ask:
                self.out.begin(t)
                self._cross(st, False)
                self.out.end()

    def _cross(self, st: SymbolState, our_buys: bool) -> None:
        """The opposite side reached our resting price: its size there would have traded
        with us (we were there first). Fill at our price, as maker."""
        book = st.book
        if book.crossed:
            self.count("paper_crossed_book")
            return
        if our_buys:
            ours, consumed, own_side = st.our_bids, st.consumed_asks, book.bids
            best_bid = st.best_bid
            assert best_bid is not None  # we have resting bids
            top: int = best_bid
            levels = list(takewhile(lambda lv: lv[0] <= top, book.iter_asks()))
            prices = sorted((p for p in ours if p >= levels[0][0]), reverse=True)
        else:
            ours, consumed, own_side = st.our_asks, st.consumed_bids, book.asks
            best_ask = st.best_ask
            assert best_ask is not None  # we have resting asks
            top = best_ask
            levels = list(takewhile(lambda lv: lv[0] >= top, book.iter_bids()))
            prices = sorted(p for p in ours if p <= levels[0][0])
        i = 0
        for px in prices:
            for o in list(ours.get(px, ())):
                # Their side reached our price, so nothing visible is left ahead of us there.
                o.ahead = min(o.ahead, own_side.get(px, 0))
                if o.ahead > 0:
                    continue
                while i < len(levels):
                    p, q = levels[i]
                    if (p > px) if our_buys else (p < px):
                        break
                    eff = q - consumed.get(p, 0)
                    if eff <= 0:
                        i += 1
                        continue
                    want = self._fillable(st, o)
                    if want <= 0:
                        break
                    take = eff if eff < want else want
                    self.depletion.record(st, our_buys, p, take, self.out.step_time)
                    # Whole fills: the order fills entirely once the other side reaches it.
                    self._fill(st, o, px, want if self.whole_fills else take, Liquidity.MAKER)
                    if take == eff:
                        i += 1  # this level is used up for this step (whatever is remembered)
                    if o.status is _FILLED:
                        break

    def _on_trade(self, ev: Trade, t: int) -> None:
        st = self.symbols.get(ev.symbol)
        if st is None:
            st = self.state(ev.symbol)
        p = ev.price
        st.last_price = p
        if not st.resting:
            return
        if ev.side is _SELL:
            best = st.best_bid
            if best is None or best < p:
                return
            ours, traded = st.our_bids, st.traded_bids
            prices = sorted((x for x in ours if x >= p), reverse=True)
        else:
            best = st.best_ask
            if best is None or best > p:
                return
            ours, traded = st.our_asks, st.traded_asks
            prices = sorted(x for x in ours if x <= p)
        if p in traded:
            traded[p] += ev.qty
        self.out.begin(t)
        left = ev.qty
        whole = self.whole_fills
        for px in prices:
            data_consumed = 0
            # Whole fills: a print beyond our price emptied the queue there and fills us
            # entirely; at our price, what is left after the queue fills us entirely.
            through = whole and px != p
            for o in list(ours.get(px, ())):
                if through:
                    o.ahead = 0
                need = o.ahead - data_consumed
                if need > 0 and left > 0:
                    d = need if need < left else left
                    data_consumed += d
                    left -= d
                a = o.ahead - data_consumed
                o.ahead = a if a > 0 else 0
                if o.ahead == 0 and (left > 0 or through):
                    want = self._fillable(st, o)
                    if want > 0:
                        if whole:
                            f = want
                        else:
                            f = want if want < left else left
                            left -= f
                        self._fill(st, o, px, f, Liquidity.MAKER)
            if left <= 0 and not whole:
                # The print is used up; later orders at worse prices are untouched.
                break
        self.out.end()

    # -- figures ---------------------------------------------------------------------------------
    def track_drawdown(self, net_pnl: Decimal) -> Decimal:
        """Record one observation of net P&L; returns the drawdown from its peak so far."""
        peak = self.peak_pnl
        if peak is None or net_pnl > peak:
            self.peak_pnl = peak = net_pnl
        dd = peak - net_pnl
        if dd > self.max_drawdown:
            self.max_drawdown = dd
        return dd


def _cap_consumed(consumed: dict[int, int], levels: list[tuple[int, int]]) -> None:
    """The feed changed these levels: what we consumed there can be at most what is left."""
    for p, q in levels:
        c = consumed.get(p)
        if c is not None:
            if q <= 0:
                del consumed[p]
            elif c > q:
                consumed[p] = q
