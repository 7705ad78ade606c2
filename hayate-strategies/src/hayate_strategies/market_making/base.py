"""The ladder market maker every ``mm.*`` strategy builds on.

A subclass decides *where* to quote (:meth:`LadderMarketMaker.quote_reference`: a centre
and a half-spread per side); this class does the rest, the same way for all of them:
levels on the tick grid, sizes within the position limit, matching the wanted quotes to
the orders already working, cancel and replace, minimum quote lifetime, and pulling
quotes when the book cannot be trusted.

Speed. ``on_event`` runs for every market event of the quoted symbols. The common case,
"the mid moved less than the requote threshold", costs a dictionary lookup, the book's
integer mid and one comparison: no ``Decimal`` and no action is built unless the
strategy is going to act.

A venue that cannot serve requests (a :class:`~hayate.events.VenueStatus` outage: rate
limits, 5xx, timeouts) is treated like an untrusted book: quotes are pulled and nothing new
is placed until it serves again.

Requoting is cancel-and-replace by default: a level whose price moved is cancelled and a
new order placed (both in one batch). It behaves the same on every venue, needs no amend
support, and costs no queue priority that an amend of the price would not also lose.
With ``requote_with = "amend"`` such an order is moved with one amend instead (half the
requests, half the rate-limit use), when it is acknowledged, unfilled and not already
being changed; anything else is still cancelled and replaced. ``SymbolQuotes.mine`` holds
the price we asked for; the venue's order updates bring it back to the truth when an amend
is refused.

When the engine's risk gate refuses every new quote of a requote (halted, reduce-only, a
limit reached), the strategy waits before trying again: 0.1 s, doubling up to 5 s, reset
by the first quote that gets through.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from hayate.actions import Action, AmendOrder, CancelOrder, PlaceOrder, TimeInForce
from hayate.book.book import OrderBook
from hayate.clock import NS
from hayate.events import (
    Event,
    Fill,
    OrderStatus,
    OrderUpdate,
    Side,
    StreamGap,
    Timer,
    VenueStatus,
)
from hayate.exceptions import ConfigError
from hayate.instruments import Instrument
from hayate.orders.manager import TrackedOrder
from hayate.spec.preview import MarketPreview, SpecCheck
from hayate.types import Strategy
from hayate_strategies.market_making.ladder import capped_qty, ladder_prices, total_leaves
from hayate_strategies.market_making.params import MultiSymbolConfig, QuoteParams

__all__ = ["LadderMarketMaker", "SymbolQuotes"]

_BUY = Side.BUY
_SELL = Side.SELL
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
_PENDING_AMEND = OrderStatus.PENDING_AMEND
_NEW = OrderStatus.NEW
_CANCELLED = OrderStatus.CANCELLED
_BACKOFF_MIN = NS // 10  # first wait after the risk gate refused every new quote
_BACKOFF_MAX = 5 * NS
_ZERO = Decimal(0)


class SymbolQuotes:
    """Everything one strategy instance keeps about one quoted symbol."""

    __slots__ = ("amend", "amended_last", "backoff", "book", "cancelling", "dirty", "hints",
                 "inst", "level_qtys", "live", "max_abs_position", "min_life_ns", "mine", "model",
                 "moved_at", "params", "placed_last", "ref_m2", "retry_at", "room_limited",
                 "stale_ns", "symbol", "thr2", "thr_units", "tick", "tif", "waiting_cancels",
                 "wake_at")

    def __init__(self, symbol: str, params: QuoteParams) -> None:
        self.symbol = symbol
        self.params = params
        self.inst: Instrument | None = None
        self.tick = 1
        self.book: OrderBook | None = None
        self.ref_m2 = 0  # twice the mid the current quotes were computed from
        self.thr2 = 1  # requote threshold, in the same doubled units
        self.thr_units = 1.0
        self.dirty = True  # something besides the mid changed: recompute on the next event
        self.wake_at = 0  # a held quote may be replaced from this time on (0: none held)
        self.live = False  # we believe some of our quotes are working
        self.mine: dict[str, int] = {}  # our orders that may still be open -> price units
        self.cancelling: set[str] = set()  # our cancels in flight: their acks change nothing
        self.room_limited = False  # the position limit cut a quote: a freed order matters
        self.waiting_cancels = False  # a level waits for a cancel's answer to be refilled
        self.placed_last: list[str] = []  # client ids placed by the last requote
        self.amend = params.requote_with == "amend"
        self.moved_at: dict[str, int] = {}  # amended orders -> when (their quote's new age)
        self.amended_last: list[tuple[str, int]] = []  # (client id, price) of the last amends
        self.backoff = 0  # ns; grows while the risk gate refuses every new quote
        self.retry_at = 0
        self.min_life_ns = int(params.min_quote_lifetime * NS)
        self.stale_ns = None if params.stale_after is None else int(params.stale_after * NS)
        self.max_abs_position = _ZERO
        self.model: Any = None  # the subclass's per-symbol state (indicators...)
        # Worked out once (params are frozen) instead of on every requote:
        self.level_qtys = [params.level_qty(i) for i in range(params.levels)]
        self.hints = {side: [("b" if side is _BUY else "a") + str(i) for i in range(params.levels)]
                      for side in (_BUY, _SELL)}  # client id hints per side and level
        self.tif = TimeInForce.POST_ONLY if params.post_only else TimeInForce.GTC


class LadderMarketMaker(Strategy):
    """Base of the ``mm.*`` strategies; subclasses implement :meth:`quote_reference`."""

    Config: ClassVar[type[MultiSymbolConfig]] = MultiSymbolConfig
    observes_market: ClassVar[bool] = False  # call observe() for every market event

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.quotes: dict[str, SymbolQuotes] = {}
        for sym in config.all_symbols():
            q = SymbolQuotes(sym, config.params_for(sym))
            q.model = self.make_model(q)
            self.quotes[sym] = q
        self.symbols = frozenset(self.quotes)
        self._observes = self.observes_market
        self._view: Any = None
        self.placed = 0
        self.cancelled = 0
        self.amended = 0
        self.requotes = 0
        self.pulls = 0
        self.fills = 0
        self.refused = 0  # requotes whose every new order the risk gate refused

    # -- what subclasses provide -----------------------------------------------------------------
    def make_model(self, q: SymbolQuotes) -> Any:
        """Per-symbol state of the subclass (indicators...), stored as ``q.model``."""
        return None

    def observe(self, q: SymbolQuotes, event: Event, book: OrderBook) -> None:
        """See every market event of ``q.symbol`` (when ``observes_market``); set
        ``q.dirty = True`` when the quotes should be recomputed."""

    def quote_reference(self, q: SymbolQuotes, view: Any, book: OrderBook, position: Decimal
                        ) -> tuple[float, float, float] | None:
        """``(centre, bid half-spread, ask half-spread)`` in price units, or None to stay
        out of the market (not enough data yet)."""
        raise NotImplementedError

    @classmethod
    def check_market(cls, config: Any, market: MarketPreview, check: SpecCheck) -> None:
        """Check time: an input delivers every quoted symbol, and every quote size fits the
        symbol's lot rules where a source declared them (else :meth:`on_start` checks)."""
        c: MultiSymbolConfig = config
        for i, sym in enumerate(c.all_symbols()):
            key: tuple[str | int, ...] = ("symbol",) if c.symbol is not None else ("symbols", i)
            if not market.require_symbol(check, key, sym):
                continue
            where: tuple[str | int, ...] = (
                ("per_symbol", sym, "order_qty") if "order_qty" in c.per_symbol.get(sym, {})
                else ("order_qty",))
            sizes = c.params_for(sym).order_qty
            if isinstance(sizes, list):
                for level, qty in enumerate(sizes):
                    market.check_qty(check, (*where, level), sym, qty)
            else:
                market.check_qty(check, where, sym, sizes)

    # -- lifecycle -------------------------------------------------------------------------------
    def on_start(self, view: Any) -> Sequence[Action] | None:
        for q in self.quotes.values():
            self._bind_instrument(q)
        return None

    def on_stop(self, view: Any) -> Sequence[Action] | None:
        acts: list[Action] = []
        for q in self.quotes.values():
            acts += self._cancel_all(q, view)
        return acts or None

    def _bind_instrument(self, q: SymbolQuotes) -> bool:
        inst = self.ctx.instruments.get(q.symbol)
        if inst is None:
            return False
        q.inst = inst
        q.tick = inst.tick_units
        p = q.params
        for level in range(p.levels):
            qty = p.level_qty(level)
            if qty % inst.qty_step != 0 or qty < inst.min_qty:
                raise ConfigError(
                    f"{self.id}: order_qty {qty} of {q.symbol} is not a multiple of its qty step "
                    f"{inst.qty_step} or is below its minimum {inst.min_qty}")
        return True

    # -- the hot path ----------------------------------------------------------------------------
    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        q = self.quotes.get(getattr(event, "symbol", ""))
        if q is None:
            if type(event) is Timer or type(event) is StreamGap or type(event) is VenueStatus:
                return self._check_all(view)
            return None
        if event.private:
            return self._on_private(q, event, view)
        if view is not self._view:
            self._rebind(view)
        book = q.book
        if book is None:
            book = q.book = view.book(q.symbol)
        if self._observes:
            self.observe(q, event, book)
        if not book.valid:  # BookInvalid, a gap, a crossed update (the state saw it first)
            return self._pull(q, view) if q.live else None
        m2 = book.mid2()
        if m2 is None:
            return self._pull(q, view) if q.live else None
        d = m2 - q.ref_m2
        if q.dirty or d >= q.thr2 or -d >= q.thr2:
            return self._requote(q, view)
        if q.wake_at and (event.recv_ts or event.ts) >= q.wake_at:
            return self._requote(q, view)
        return None

    def _rebind(self, view: Any) -> None:
        self._view = view
        for q in self.quotes.values():
            q.book = None

    def _on_private(self, q: SymbolQuotes, event: Event, view: Any) -> Sequence[Action] | None:
        if type(event) is OrderUpdate:
            if event.status.is_open:
                if q.amend:
                    self._sync_price(q, event)
                return None  # an acknowledgement changes nothing we decide on
            cid = event.client_id
            if (cid in q.cancelling and event.status is _CANCELLED
                    and not q.room_limited and not q.waiting_cancels):
                q.cancelling.discard(cid)
                return None  # the cancel we asked for, and no level waits for it
        if type(event) is Fill:
            self.fills += 1
            size = abs(view.position(q.symbol).size)
            if size > q.max_abs_position:
                q.max_abs_position = size
        q.dirty = True
        return self._requote(q, view)

    @staticmethod
    def _sync_price(q: SymbolQuotes, event: OrderUpdate) -> None:
        """Take the venue's price of one of our orders when it is not the one we asked for
        (an amend refused, or a report from before the amend): requote to correct it."""
        cid = event.client_id
        px = q.mine.get(cid)
        if px is None or event.price is None or q.inst is None:
            return
        units = q.inst.price_units(event.price)
        if units != px:
            q.mine[cid] = units
            q.dirty = True

    def _check_all(self, view: Any) -> Sequence[Action] | None:
        """A timer tick or a stream gap: look at every symbol (stale books, held quotes)."""
        acts: list[Action] = []
        now = view.now
        for q in self.quotes.values():
            if q.live or q.dirty or (q.wake_at and now >= q.wake_at):
                acts += self._requote(q, view) or ()
        return acts or None

    # -- acting ----------------------------------------------------------------------------------
    def _pull(self, q: SymbolQuotes, view: Any) -> list[Action] | None:
        acts = self._cancel_all(q, view)
        q.live = False
        q.dirty = True
        q.wake_at = 0
        if acts:
            self.pulls += 1
        return acts or None

    def _cancel_all(self, q: SymbolQuotes, view: Any) -> list[Action]:
        acts: list[Action] = []
        for o in self._own_open(q, view):
            if o.status is not _PENDING_CANCEL:
                acts.append(_cancel(q, o.client_id))
        self.cancelled += len(acts)
        return acts

    def _own_open(self, q: SymbolQuotes, view: Any) -> list[TrackedOrder]:
        """Our open orders (in the account's order), forgetting those that ended."""
        mine = q.mine
        own = [o for o in view.open_orders(q.symbol) if o.client_id in mine]
        if len(own) != len(mine):  # equal: the same ids (own's are distinct and all in mine)
            q.mine = {o.client_id: mine[o.client_id] for o in own}
            if q.cancelling:  # only ever holds ids of q.mine: shrinks with it
                q.cancelling.intersection_update(q.mine)
            if q.moved_at:
                q.moved_at = {c: t for c, t in q.moved_at.items() if c in q.mine}
        return own

    def _requote(self, q: SymbolQuotes, view: Any) -> list[Action] | None:
        sym = q.symbol
        if q.inst is None and not self._bind_instrument(q):
            return None
        if not view.book_ok(sym, q.stale_ns) or not view.venue_ok:
            # An untrusted book, or a venue that cannot serve us (VenueStatus): no quotes.
            return self._pull(q, view)
        now = view.now
        if q.placed_last or q.amended_last:
            # Orders the engine never recorded were refused by the risk gate (halted,
            # reduce-only, a limit): wait before trying again instead of on every tick.
            order = view.order
            refused = True
            for c in q.placed_last:
                if order(c) is not None:
                    refused = False
                    break
            if q.amended_last and self._amends_through(q, view):
                refused = False
            if refused:
                q.backoff = min(max(q.backoff * 2, _BACKOFF_MIN), _BACKOFF_MAX)
                q.retry_at = now + q.backoff
                self.refused += 1
            else:
                q.backoff = 0
            q.placed_last = []
            q.amended_last = []
        if q.retry_at:
            if now < q.retry_at:
                q.wake_at = q.retry_at
                return None
            q.retry_at = 0
        book = view.book(sym)
        position = view.position(sym).size
        ref = self.quote_reference(q, view, book, position)
        if ref is None:
            return self._pull(q, view)
        self.requotes += 1
        p = q.params
        tick = q.tick
        m2 = book.mid2()
        assert m2 is not None
        mid = m2 / 2
        thr = max(p.requote_threshold_ticks * tick, mid * p.requote_threshold_bps / 1e4)
        q.thr_units = thr
        q.thr2 = max(1, math.ceil(2 * thr))
        q.ref_m2 = m2
        q.dirty = False
        centre, bid_half, ask_half = ref
        bid_prices, ask_prices = ladder_prices(
            bid_start=centre - bid_half, ask_start=centre + ask_half,
            spacing=mid * p.level_spacing_bps / 1e4, levels=p.levels, tick=tick,
            best_bid=book.best_bid, best_ask=book.best_ask, post_only=p.post_only)

        inst = q.inst
        assert inst is not None
        # Working orders per side, in the account's order; orders already being cancelled
        # may still fill: new quotes leave room for them (working quotes are not cancelled
        # for them: the cancel is already on its way). An order being cancelled, now or
        # earlier, keeps its level until the venue answers the cancel, so never more orders
        # are live than the levels asked for, however late the answers come (a replacement
        # follows on the cancel's answer; requote_with = "amend" moves orders in place).
        bids: list[TrackedOrder] = []
        asks: list[TrackedOrder] = []
        pend_b = pend_a = _ZERO
        n_pend_b = n_pend_a = 0
        for o in self._own_open(q, view):
            if o.status is _PENDING_CANCEL:
                if o.side is _BUY:
                    pend_b += o.leaves_qty
                    n_pend_b += 1
                else:
                    pend_a += o.leaves_qty
                    n_pend_a += 1
            elif o.side is _BUY:
                bids.append(o)
            else:
                asks.append(o)
        maxp = p.max_position
        bid_cap = None if maxp is None else maxp - position
        ask_cap = None if maxp is None else maxp + position

        cancels: list[Action] = []
        wake = 0
        # Amend mode: unmatched orders that could be moved instead of cancelled, per side.
        move_b: list[TrackedOrder] | None = [] if q.amend else None
        move_a: list[TrackedOrder] | None = [] if q.amend else None
        plan_b, held_b, wake = self._plan_side(q, bid_prices, bids, now, cancels, wake, move_b)
        n_pend_b += len(cancels)  # the bids cancelled now (the list was empty)
        n_bid_cancels = len(cancels)
        plan_a, held_a, wake = self._plan_side(q, ask_prices, asks, now, cancels, wake, move_a)
        n_pend_a += len(cancels) - n_bid_cancels
        # Never cross our own orders on the other side (self-trade).
        mine = q.mine
        lowest_ask: int | None = None
        for o in held_a:
            px = mine[o.client_id]
            if lowest_ask is None or px < lowest_ask:
                lowest_ask = px
        for _, po, _ in plan_a:
            if po is not None:
                px = mine[po.client_id]
                if lowest_ask is None or px < lowest_ask:
                    lowest_ask = px
        highest_bid: int | None = None
        for o in held_b:
            px = mine[o.client_id]
            if highest_bid is None or px > highest_bid:
                highest_bid = px
        for _, po, _ in plan_b:
            if po is not None:
                px = mine[po.client_id]
                if highest_bid is None or px > highest_bid:
                    highest_bid = px
        q.room_limited = False
        q.waiting_cancels = False
        places: list[PlaceOrder] = []
        amends: list[tuple[AmendOrder, int, bool]] = []  # (amend, old price, is a bid)
        self._emit_side(q, _BUY, now, plan_b, held_b, bid_cap, pend_b, n_pend_b, lowest_ask,
                        cancels, places, move_b, amends)
        self._emit_side(q, _SELL, now, plan_a, held_a, ask_cap, pend_a, n_pend_a, highest_bid,
                        cancels, places, move_a, amends)
        q.wake_at = wake
        q.live = (bool(places) or bool(amends) or bool(held_b or held_a)
                  or any(o is not None for _, o, _ in plan_b)
                  or any(o is not None for _, o, _ in plan_a))
        self.cancelled += len(cancels)
        self.placed += len(places)
        q.placed_last = [a.client_id for a in places]
        if amends:
            self.amended += len(amends)
            cancels.extend(self._order_amends(q, amends))
            # Look again on the next event: an amend the risk gate refused gets no venue
            # update, and only a requote brings ``mine`` back to the order's real price.
            q.dirty = True
        cancels.extend(places)
        return cancels or None

    @staticmethod
    def _order_amends(q: SymbolQuotes, amends: list[tuple[AmendOrder, int, bool]]
                      ) -> list[AmendOrder]:
        """Amends moving away from the other side first, so that no order is ever moved
        onto one of ours that has not moved yet (new prices never cross each other)."""
        mine = q.mine
        retreat: list[AmendOrder] = []
        advance: list[AmendOrder] = []
        amended_last: list[tuple[str, int]] = []
        for a, old, is_bid in amends:
            new = mine[a.client_id]
            amended_last.append((a.client_id, new))
            (retreat if (new < old) == is_bid else advance).append(a)
        q.amended_last = amended_last
        return retreat + advance

    @staticmethod
    def _amends_through(q: SymbolQuotes, view: Any) -> bool:
        """Whether any amend of the last requote was taken (pending, or the order is at the
        price we asked for); also brings ``mine`` back to the order's price for amends that
        were refused without a venue update (the risk gate)."""
        inst = q.inst
        assert inst is not None
        order = view.order
        mine = q.mine
        through = False
        for cid, px in q.amended_last:
            o = order(cid)
            if o is None:
                through = True
                continue
            if o.status is _PENDING_AMEND:
                through = True
                continue
            units = inst.price_units(o.price) if o.price is not None else px
            if units == px:
                through = True
            elif cid in mine and o.is_open:
                mine[cid] = units
        return through

    def _plan_side(self, q: SymbolQuotes, prices: list[int], working: list[TrackedOrder],
                   now: int, cancels: list[Action], wake: int,
                   movable: list[TrackedOrder] | None = None,
                   ) -> tuple[list[tuple[int, TrackedOrder | None, int]], list[TrackedOrder], int]:
        """Match wanted levels to working orders; returns (plan, held, wake).

        ``plan`` lists ``(price, order or None, level)`` best first; orders that match no
        level are cancelled, except those younger than the minimum quote lifetime, which
        are *held* (left working, and occupying a level) until ``wake``. ``working`` is
        consumed (matched orders are taken out of it). In amend mode (``movable`` given)
        unmatched orders that can be amended go to ``movable`` instead of being cancelled
        (an amended order's age counts from its amend).
        """
        qtys = q.level_qtys
        thr = q.thr_units
        mine = q.mine
        remaining = working
        plan: list[tuple[int, TrackedOrder | None, int]] = []
        for level, price in enumerate(prices):
            qty = qtys[level]
            best: TrackedOrder | None = None
            best_d = 0.0
            for o in remaining:
                # A smaller order still fits its level: it was cut to the position limit or
                # is partly filled (_emit_side decides whether it should grow back).
                if o.qty > qty:
                    continue
                d = abs(mine[o.client_id] - price)
                if d < thr and (best is None or d < best_d):
                    best, best_d = o, d
            if best is not None:
                remaining.remove(best)
            plan.append((price, best, level))
        held: list[TrackedOrder] = []
        if movable is None:
            for o in remaining:
                if q.min_life_ns and now - o.created_ts < q.min_life_ns:
                    held.append(o)
                    due = o.created_ts + q.min_life_ns
                    wake = due if not wake or due < wake else wake
                else:
                    cancels.append(_cancel(q, o.client_id))
            return plan, held, wake
        moved_at = q.moved_at
        for o in remaining:
            born = moved_at.get(o.client_id, o.created_ts)
            if q.min_life_ns and now - born < q.min_life_ns:
                held.append(o)
                due = born + q.min_life_ns
                wake = due if not wake or due < wake else wake
            elif o.status is _NEW and not o.filled_qty:
                movable.append(o)
            else:
                cancels.append(_cancel(q, o.client_id))
        return plan, held, wake

    def _emit_side(self, q: SymbolQuotes, side: Side, now: int,
                   plan: list[tuple[int, TrackedOrder | None, int]], held: list[TrackedOrder],
                   cap: Decimal | None, pending: Decimal, n_pending: int,
                   other_limit: int | None, cancels: list[Action], places: list[PlaceOrder],
                   movable: list[TrackedOrder] | None = None,
                   amends: list[tuple[AmendOrder, int, bool]] | None = None) -> None:
        """Turn one side's plan into cancels and placements within the position room
        ``cap`` (None: no limit); ``pending`` is what the ``n_pending`` orders being
        cancelled could add (they still take a level each until their cancel is answered).
        With ``movable`` orders (amend mode), a new quote moves one of them (an amend into
        ``amends``) instead of being placed; those left over are cancelled."""
        inst = q.inst
        assert inst is not None
        qtys = q.level_qtys
        room_new: Decimal | None = None
        if cap is not None:
            if held:
                cap -= total_leaves(held)
            room_new = cap - pending
        free = len(qtys) - len(held) - n_pending
        for _, o, _ in plan:
            if o is not None:
                free -= 1
        tick = q.tick
        hints = q.hints[side]
        new_client_id = self.ctx.new_client_id
        for price, o, level in plan:
            if o is not None:
                leaves = o.leaves_qty
                if cap is not None and leaves > cap:
                    # The position moved since this quote went out: it could now overshoot.
                    cancels.append(_cancel(q, o.client_id))
                    continue
                if (o.qty < qtys[level] and not o.filled_qty
                        and now - o.created_ts >= q.min_life_ns
                        and capped_qty(qtys[level], room_new, inst.qty_step,
                                       inst.min_qty) > o.qty):
                    # Cut to the position limit earlier, and there is room again: resize.
                    # The order keeps its level until its cancel is answered, then the
                    # full-size quote replaces it.
                    cancels.append(_cancel(q, o.client_id))
                    q.waiting_cancels = True
                    continue
                else:
                    if cap is not None:
                        cap -= leaves
                    if room_new is not None:  # set exactly when cap is
                        room_new -= leaves
                    continue
            if free <= 0:
                if n_pending:
                    q.waiting_cancels = True  # refilled when a cancel is answered
                continue
            if other_limit is not None:
                if side is _BUY and price >= other_limit:
                    price = other_limit - tick
                elif side is _SELL and price <= other_limit:
                    price = other_limit + tick
                if price <= 0:
                    continue
            want = qtys[level]
            qty = capped_qty(want, room_new, inst.qty_step, inst.min_qty)
            if qty < want:
                q.room_limited = True
            if qty <= 0:
                continue  # no room left; later working orders may still need a cancel
            if cap is not None:
                cap -= qty
                room_new -= qty  # type: ignore[operator]
            free -= 1
            if movable:
                assert amends is not None  # given together
                mo = movable.pop(0)
                cid = mo.client_id
                amend = AmendOrder(symbol=q.symbol, client_id=cid, price=inst.price(price),
                                   qty=None if qty == mo.qty else qty)
                amends.append((amend, q.mine[cid], side is _BUY))
                q.mine[cid] = price
                q.moved_at[cid] = now
                continue
            cid = new_client_id(hints[level])
            q.mine[cid] = price
            places.append(PlaceOrder(symbol=q.symbol, side=side, qty=qty, price=inst.price(price),
                                     client_id=cid, time_in_force=q.tif))
        if movable:
            for mo in movable:
                cancels.append(_cancel(q, mo.client_id))
            movable.clear()

    # -- reporting -------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return {
            "quotes_placed": self.placed,
            "quotes_cancelled": self.cancelled,
            "quotes_amended": self.amended,
            "requotes": self.requotes,
            "quote_pulls": self.pulls,
            "quotes_refused": self.refused,
            "strategy_fills": self.fills,
            "max_abs_position": {s: str(q.max_abs_position) for s, q in self.quotes.items()},
        }


def _cancel(q: SymbolQuotes, client_id: str) -> CancelOrder:
    q.cancelling.add(client_id)
    return CancelOrder(symbol=q.symbol, client_id=client_id)
