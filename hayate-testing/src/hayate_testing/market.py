"""A scripted market for strategy unit tests: real states and view, driven by hand.

:class:`ScriptedMarket` holds the same ``core.orderbook`` and ``core.account`` states and
``core.market`` view the engine builds, on a simulated clock, without an engine. A test
sets books, advances time, fills orders, and looks at what the strategy did::

    m = ScriptedMarket([Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"),
                                   qty_step=Decimal("0.001"))])
    mm = m.add_strategy(SimpleMarketMaker, symbol="BTCUSDT", spread_bps=10, order_qty="0.01")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    assert {o.price for o in m.open_orders("BTCUSDT")} == {Decimal("99.9"), Decimal("100.3")}

By default the "venue" acknowledges every order and cancel at once (``auto_ack``), like
a venue with no latency; with ``auto_ack=False`` orders stay pending until :meth:`ack`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from hayate.actions import Action, CancelAll, CancelOrder, PlaceOrder
from hayate.book.state import OrderBookState
from hayate.clock import NS, SimClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import (
    BookDelta,
    BookInvalid,
    BookReady,
    BookSnapshot,
    Event,
    Fill,
    Liquidity,
    OrderStatus,
    OrderUpdate,
    Side,
    Timer,
    Trade,
)
from hayate.instruments import Instrument
from hayate.orders.manager import TrackedOrder
from hayate.orders.state import AccountState
from hayate.view import MarketView

__all__ = ["T0", "ScriptedMarket"]

T0 = 1_700_000_000 * NS

Levels = Iterable[tuple[str | Decimal, str | Decimal]]


class ScriptedMarket:
    def __init__(self, instruments: Iterable[Instrument], *, start_ns: int = T0, seed: int = 0,
                 auto_ack: bool = True) -> None:
        self.clock = SimClock(start_ns)
        self.bot = BotContext(name="scripted", clock=self.clock, seed=seed, out_dir=None,
                              mode="paper", client_ids=ClientIdFactory("t"))
        for inst in instruments:
            self.bot.instruments.add(inst)
        self.books = OrderBookState("books", OrderBookState.Config(type="core.orderbook"),
                                    self._ctx("books", "core.orderbook", "states"))
        self.account = AccountState("account", AccountState.Config(type="core.account"),
                                    self._ctx("account", "core.account", "states"))
        self.view = MarketView("view", MarketView.Config(type="core.market"),
                               self._ctx("view", "core.market", "inputs"))
        self.view.bind({"books": self.books, "account": self.account})
        self.strategies: list[Any] = []
        self.auto_ack = auto_ack
        self.actions: list[Action] = []  # everything every strategy sent, in order
        self.events: list[Event] = []  # everything delivered, in order
        self._n = 0

    def _ctx(self, id: str, kind: str, role: str) -> ComponentContext:
        return ComponentContext(self.bot, id, kind, role)

    # -- set-up --------------------------------------------------------------------------------
    def add_strategy(self, cls: type, *, id: str = "mm", start: bool = True, **config: Any) -> Any:
        """Build a strategy from its config keys (``type`` and ``inputs`` are filled in)."""
        cfg = cls.Config.model_validate({"type": cls.kind, "inputs": ["market"], **config})  # type: ignore[attr-defined]
        strategy = cls(id, cfg, self._ctx(id, cls.kind, "strategies"))  # type: ignore[attr-defined]
        self.strategies.append(strategy)
        if start:
            self._handle(strategy, strategy.on_start(self.view))
        return strategy

    def instrument(self, symbol: str) -> Instrument:
        return self.bot.instruments[symbol]

    @property
    def now(self) -> int:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        self.clock.advance(self.clock.now() + int(seconds * NS))

    # -- market events -------------------------------------------------------------------------
    def book(self, symbol: str, bids: Levels, asks: Levels, *, delta: bool = False
             ) -> list[Action]:
        """A snapshot (or, with ``delta``, a delta) given as decimal strings; returns actions."""
        inst = self.instrument(symbol)
        b = [(inst.price_units(p), inst.qty_units(q)) for p, q in bids]
        a = [(inst.price_units(p), inst.qty_units(q)) for p, q in asks]
        cls = BookDelta if delta else BookSnapshot
        return self.send(cls(symbol=symbol, ts=self.now, recv_ts=self.now, bids=b, asks=a))

    def trade(self, symbol: str, price: str | Decimal, qty: str | Decimal, side: Side = Side.BUY
              ) -> list[Action]:
        inst = self.instrument(symbol)
        return self.send(Trade(symbol=symbol, ts=self.now, recv_ts=self.now,
                               price=inst.price_units(price), qty=inst.qty_units(qty), side=side))

    def invalidate(self, symbol: str, reason: str = "test") -> list[Action]:
        return self.send(BookInvalid(symbol=symbol, ts=self.now, recv_ts=self.now, reason=reason))

    def ready(self, symbol: str) -> list[Action]:
        return self.send(BookReady(symbol=symbol, ts=self.now, recv_ts=self.now))

    def timer(self) -> list[Action]:
        return self.send(Timer(ts=self.now, recv_ts=self.now, name="timer"))

    # -- the venue -----------------------------------------------------------------------------
    def ack(self) -> list[Action]:
        """Acknowledge every pending order (New) and cancel (Cancelled)."""
        out: list[Action] = []
        for o in list(self.account.orders.open_orders()):
            if o.status is OrderStatus.PENDING_NEW:
                out += self.send(self._update(o, OrderStatus.NEW))
            elif o.status is OrderStatus.PENDING_CANCEL:
                out += self.send(self._update(o, OrderStatus.CANCELLED))
        return out

    def reject(self, client_id: str, reason: str = "EC_PostOnlyWillTakeLiquidity") -> list[Action]:
        o = self.account.orders.get(client_id)
        assert o is not None, f"unknown order {client_id}"
        return self.send(self._update(o, OrderStatus.REJECTED, reason=reason))

    def fill(self, client_id: str, qty: str | Decimal | None = None,
             price: str | Decimal | None = None, fee: str | Decimal = "0") -> list[Action]:
        """Fill one of our orders (all of what is left, by default) at its price."""
        o = self.account.orders.get(client_id)
        assert o is not None and o.is_open, f"no open order {client_id}"
        q = Decimal(qty) if qty is not None else o.leaves_qty
        px = Decimal(price) if price is not None else o.price
        assert px is not None
        self._n += 1
        filled = o.filled_qty + q
        fill = Fill(ts=self.now, recv_ts=self.now, symbol=o.symbol, client_id=o.client_id,
                    order_id="o-" + o.client_id, fill_id=f"f{self._n}", side=o.side, price=px,
                    qty=q, fee=Decimal(fee), liquidity=Liquidity.MAKER,
                    leaves_qty=o.qty - filled)
        status = OrderStatus.FILLED if filled >= o.qty else OrderStatus.PARTIALLY_FILLED
        out = self.send(fill)
        out += self.send(self._update(o, status, filled=filled, avg=px))
        return out

    def _update(self, o: TrackedOrder, status: OrderStatus, *, filled: Decimal | None = None,
                avg: Decimal | None = None, reason: str = "") -> OrderUpdate:
        return OrderUpdate(ts=self.now, recv_ts=self.now, symbol=o.symbol,
                           client_id=o.client_id, order_id="o-" + o.client_id, side=o.side,
                           status=status, price=o.price, qty=o.qty,
                           filled_qty=o.filled_qty if filled is None else filled,
                           avg_price=avg, time_in_force=o.time_in_force, reason=reason)

    # -- delivery ------------------------------------------------------------------------------
    def send(self, event: Event) -> list[Action]:
        """Deliver one event: states first, then every strategy that wants it. Returns the
        actions the strategies sent (and, with ``auto_ack``, those sent after the acks)."""
        self.clock.advance(event.recv_ts or event.ts)
        self.events.append(event)
        self.books.apply(event)
        self.account.apply(event)
        out: list[Action] = []
        sym = getattr(event, "symbol", None)
        for s in self.strategies:
            if s.symbols is not None and sym is not None and sym not in s.symbols:
                continue
            out += self._handle(s, s.on_event(event, self.view))
        return out

    def _handle(self, strategy: Any, actions: Sequence[Action] | None) -> list[Action]:
        if not actions:
            return []
        out = list(actions)
        now = self.now
        for a in actions:
            if isinstance(a, PlaceOrder) and not a.client_id:
                raise AssertionError("give orders a client id (ctx.new_client_id)")
            self.actions.append(a)
            self.account.on_action(a)
        if self.auto_ack:
            for a in actions:
                if isinstance(a, PlaceOrder):
                    o = self.account.orders.get(a.client_id)
                    if o is not None and o.status is OrderStatus.PENDING_NEW:
                        out += self.send(self._update(o, OrderStatus.NEW))
                elif isinstance(a, CancelOrder):
                    o = self.account.orders.get(a.client_id)
                    if o is not None and o.status is OrderStatus.PENDING_CANCEL:
                        out += self.send(self._update(o, OrderStatus.CANCELLED))
                elif isinstance(a, CancelAll):
                    for o in list(self.account.orders.open_orders(a.symbol or None)):
                        out += self.send(self._update(o, OrderStatus.CANCELLED))
        assert self.now == now
        return out

    # -- looking -------------------------------------------------------------------------------
    def open_orders(self, symbol: str | None = None, side: Side | None = None
                    ) -> list[TrackedOrder]:
        return [o for o in self.account.orders.open_orders(symbol)
                if side is None or o.side is side]

    def quotes(self, symbol: str) -> tuple[list[Decimal], list[Decimal]]:
        """Prices of the working bids (highest first) and asks (lowest first)."""
        live = [o for o in self.open_orders(symbol) if o.status is not OrderStatus.PENDING_CANCEL]
        bids = sorted((o.price for o in live if o.side is Side.BUY and o.price), reverse=True)
        asks = sorted(o.price for o in live if o.side is Side.SELL and o.price)
        return bids, asks

    def position(self, symbol: str) -> Decimal:
        return self.view.position(symbol).size
