"""The risk engine: pre-trade limits on every action, and breakers that act on their own.

Venue-agnostic: it keeps its own copy of the bot's orders and positions (from the actions
it lets through and the private events every executor sends), so it holds whatever the
strategies believe and whichever venue they trade on.

- **Pre-trade** (:meth:`RiskEngine.check`, through the ``hayate_check_action`` hook): an
  order is blocked, with a short reason, when the position it could lead to (every open
  order on its side filled) passes ``max_position`` or ``max_notional``, when too many
  orders are open or were sent in the last second, when its symbol's data is stale, or
  while the engine is halted or reduce-only. Cancels always pass.
- **Breakers** (:meth:`RiskEngine.observe`, called by the engine for every event): loss
  and drawdown per run and per UTC day, the reject rate and stale data. A tripped
  breaker queues a ``CancelAll`` that the engine sends to every executor, and may ask
  the bot to stop.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from hayate.accounting.marks import BookMarks
from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate.clock import NS, Clock
from hayate.events import Event, Fill, OrderStatus, OrderUpdate, PositionUpdate, Side, Trade
from hayate.instruments import InstrumentRegistry
from hayate.metrics import Metrics
from hayate.orders.manager import OrderManager
from hayate.risk.config import BreakerAction, RiskConfig, SymbolLimits
from hayate.risk.pnl import PnlTracker

__all__ = ["RiskEngine"]

log = logging.getLogger("hayate.risk")

_ZERO = Decimal(0)
_RANK = {"normal": 0, "reduce_only": 1, "halted": 2}
_PENDING_NEW = OrderStatus.PENDING_NEW
_REJECTED = OrderStatus.REJECTED


class RiskEngine:
    """Holds the ``[risk]`` limits of one bot and its view of orders, positions and P&L.

    The engine passes this object as the ``context`` of ``hayate_check_action``, so a
    third-party risk plugin can read ``context.orders`` (an
    :class:`~hayate.orders.OrderManager`: open orders, positions), ``context.mark(symbol)``
    and ``context.clock``.
    """

    def __init__(self, config: RiskConfig | None, *, clock: Clock,
                 instruments: InstrumentRegistry, metrics: Metrics | None = None) -> None:
        self.config = cfg = config or RiskConfig()
        self.active = cfg.has_limits
        self.clock = clock
        self.instruments = instruments
        self.metrics = metrics or Metrics()
        self.orders = OrderManager()
        self.pnl = PnlTracker()
        self.mode = "normal"  # normal, reduce_only or halted
        self.mode_reason = ""
        self._mode_daily = False  # the mode came from a daily breaker: lifted at midnight UTC
        self.trips: dict[str, int] = {}
        self._tripped: set[str] = set()  # breakers that tripped (daily ones: today)
        self._pending: list[Action] = []
        self._stop: str | None = None
        self._flatten: str | None = None  # a breaker wants positions closed (reason)
        self._flattening: str | None = None  # closing: a quote's fill that raced the
        # cancels opens a position again, which is closed again
        self._stop_taken = False
        self._attention = False  # actions queued or a stop wanted: the engine must look
        self._last_seen: dict[str, int] = {}
        self._stale: set[str] = set()
        self.marks = BookMarks(instruments)
        self._rate: deque[int] = deque()
        self._outcomes: deque[bool] = deque(maxlen=cfg.reject_window)
        self._rejects = 0
        self._interval = int(cfg.check_interval * NS)
        self._next_eval = 0
        self._stale_ns = None if cfg.stale_after is None else int(cfg.stale_after * NS)
        self._limits: dict[str, SymbolLimits] = {}
        self.fills = 0
        self.max_abs_position: dict[str, Decimal] = {}
        self._has_loss_limits = any(v is not None for v in (
            cfg.max_loss, cfg.max_drawdown, cfg.max_daily_loss, cfg.max_daily_drawdown))

    def bind(self, components: Iterable[Any]) -> None:
        """Find the bot's order book states, whose mids mark positions to market."""
        from hayate.book.state import OrderBookState

        self.marks.books = [c for c in components if isinstance(c, OrderBookState)]

    # -- pre-trade -------------------------------------------------------------------------------
    def check(self, action: Action) -> str | None:
        """None to let ``action`` through, or the reason it is blocked. An allowed action is
        recorded (it counts towards open orders, the order rate and worst-case positions)."""
        t = type(action)
        if not self.active:
            if self.mode == "halted" and (t is PlaceOrder or t is AmendOrder):
                return "halted"
            return None
        now = self.clock.now()
        if t is CancelOrder or t is CancelAll:
            self.orders.on_action(action, now)
            return None
        if t is PlaceOrder:
            reason = self._check_place(action, now)  # type: ignore[arg-type]
        elif t is AmendOrder:
            reason = self._check_amend(action, now)  # type: ignore[arg-type]
        else:
            return None
        if reason is None:
            self.orders.on_action(action, now)
            if self.config.max_order_rate is not None:
                self._rate.append(now)
        return reason

    def _check_place(self, a: PlaceOrder, now: int) -> str | None:
        if self.mode == "halted":
            return "halted"
        sym = a.symbol
        if self.mode == "reduce_only" and not self._reduces(a):
            return "reduce_only"
        if sym in self._stale:
            return f"stale_data {sym}"
        cfg = self.config
        if cfg.max_open_orders is not None and len(self.orders.open_orders()) >= cfg.max_open_orders:
            return "max_open_orders"
        lim = self.limits(sym)
        if (lim.max_open_orders is not None
                and len(self.orders.open_orders(sym)) >= lim.max_open_orders):
            return f"max_open_orders {sym}"
        if cfg.max_order_rate is not None and not self._rate_ok(now):
            return "order_rate"
        return self._check_exposure(sym, a.side, a.qty, a.price)

    def _check_amend(self, a: AmendOrder, now: int) -> str | None:
        if self.mode == "halted":
            return "halted"
        o = self.orders.get(a.client_id)
        if o is None or not o.is_open:
            return None  # unknown to us: the venue will answer
        if a.symbol in self._stale:
            return f"stale_data {a.symbol}"
        if self.config.max_order_rate is not None and not self._rate_ok(now):
            return "order_rate"
        grows = a.qty is not None and a.qty > o.qty
        if self.mode == "reduce_only" and grows:
            return "reduce_only"
        if grows or a.price is not None:
            extra = (a.qty - o.qty) if grows else _ZERO  # type: ignore[operator]
            return self._check_exposure(a.symbol, o.side, extra, a.price or o.price)
        return None

    def _check_exposure(self, sym: str, side: Side, qty: Decimal, price: Decimal | None
                        ) -> str | None:
        lim = self.limits(sym)
        if lim.max_position is None and lim.max_notional is None:
            return None
        worst = abs(self.worst_position(sym, side, qty))
        if lim.max_position is not None and worst > lim.max_position:
            return f"max_position {sym}"
        if lim.max_notional is not None:
            px = price if price is not None else self.mark(sym)
            if px is None:
                return f"max_notional {sym} (no price)"
            inst = self.instruments.get(sym)
            mult = inst.contract_multiplier if inst is not None else Decimal(1)
            if worst * px * mult > lim.max_notional:
                return f"max_notional {sym}"
        return None

    def worst_position(self, sym: str, side: Side, extra: Decimal = _ZERO) -> Decimal:
        """The position if every open order on ``side`` (and ``extra`` more) filled."""
        pos = self.orders.position(sym).size
        same = sum((o.leaves_qty for o in self.orders.open_orders(sym) if o.side is side), _ZERO)
        return pos + (same + extra) * side.sign

    def _reduces(self, a: PlaceOrder) -> bool:
        pos = self.orders.position(a.symbol).size
        if pos == 0 or (a.side is Side.SELL) != (pos > 0):
            return False
        working = sum((o.leaves_qty for o in self.orders.open_orders(a.symbol)
                       if o.side is a.side), _ZERO)
        return working + a.qty <= abs(pos)

    def _rate_ok(self, now: int) -> bool:
        rate = self._rate
        while rate and rate[0] <= now - NS:
            rate.popleft()
        return len(rate) < self.config.max_order_rate  # type: ignore[operator]

    def limits(self, symbol: str) -> SymbolLimits:
        lim = self._limits.get(symbol)
        if lim is None:
            lim = self._limits[symbol] = self.config.limits_for(symbol)
        return lim

    # -- observing the bot -----------------------------------------------------------------------
    def observe(self, source: str, ev: Event) -> bool:
        """See one dispatched event; True when the engine should now call
        :meth:`take_actions` (orders to cancel) and :meth:`take_stop`."""
        if ev.private:
            self._private(ev)
        else:
            if self._stale_ns is not None:
                sym = getattr(ev, "symbol", None)
                if sym is not None:
                    self._last_seen[sym] = ev.recv_ts or ev.ts
                    if sym in self._stale:
                        self._fresh(sym)
            if type(ev) is Trade:
                self.marks.last_trade[ev.symbol] = ev.price
            if (ev.recv_ts or ev.ts) < self._next_eval:
                return self._attention  # the common case: nothing to evaluate yet
        now = self.clock.now()
        if now >= self._next_eval:
            self._evaluate(now)
        return self._attention

    def poll(self) -> bool:
        """Periodic check without an event (live runs): stale data, marks moving P&L."""
        self._evaluate(self.clock.now())
        return self._attention

    def _private(self, ev: Event) -> None:
        t = type(ev)
        if t is OrderUpdate:
            o = self.orders.get(ev.client_id)  # type: ignore[attr-defined]
            first = o is not None and o.status is _PENDING_NEW
            self.orders.on_order_update(ev)  # type: ignore[arg-type]
            if first and self.config.max_reject_rate is not None:
                self._outcome(ev.status is _REJECTED)  # type: ignore[attr-defined]
        elif t is Fill:
            if self.orders.on_fill(ev):  # type: ignore[arg-type]
                self.fills += 1
                if self._flattening is not None and "-flat-" not in ev.client_id:  # type: ignore[attr-defined]
                    self._flatten = self._flattening
                    self._attention = True
                sym = ev.symbol  # type: ignore[attr-defined]
                size = abs(self.orders.position(sym).size)
                if size > self.max_abs_position.get(sym, _ZERO):
                    self.max_abs_position[sym] = size
                self._next_eval = 0  # P&L changed: evaluate the breakers on this event
        elif t is PositionUpdate:
            pos = self.orders.position(ev.symbol)  # type: ignore[attr-defined]
            if pos.size != ev.size:  # type: ignore[attr-defined]
                pos.set_from_venue(ev.size, ev.entry_price)  # type: ignore[attr-defined]

    def _outcome(self, rejected: bool) -> None:
        win = self._outcomes
        if len(win) == win.maxlen and win[0]:
            self._rejects -= 1
        win.append(rejected)
        if rejected:
            self._rejects += 1
        limit = self.config.max_reject_rate
        if limit is not None and len(win) == win.maxlen:
            rate = self._rejects / len(win)
            if rate >= limit:
                self._trip("reject_rate", self.config.on_reject_rate,
                           f"{self._rejects} of the last {len(win)} orders rejected")

    def _fresh(self, sym: str) -> None:
        self._stale.discard(sym)
        log.info("market data for %s flows again: orders allowed", sym)

    def _evaluate(self, now: int) -> None:
        self._next_eval = now + self._interval
        stale_ns = self._stale_ns
        if stale_ns is not None:
            for sym, last in self._last_seen.items():
                if sym not in self._stale and now - last > stale_ns:
                    self._stale.add(sym)
                    self._pending.append(CancelAll(symbol=sym))
                    self._attention = True
                    self._count_trip("stale_data")
                    log.warning("no market data for %s for %.1fs: cancelling its orders",
                                sym, (now - last) / NS)
        if not self.fills and not self.orders.positions:
            return
        t = self.pnl
        if t.update(now, self.current_pnl()) and self._mode_daily:
            self._new_day()
        cfg = self.config
        if self._has_loss_limits:
            self._breaker("max_loss", cfg.max_loss, t.loss, False)
            self._breaker("max_drawdown", cfg.max_drawdown, t.drawdown, False)
            self._breaker("max_daily_loss", cfg.max_daily_loss, t.daily_loss, True)
            self._breaker("max_daily_drawdown", cfg.max_daily_drawdown, t.daily_drawdown, True)

    def _breaker(self, name: str, limit: Decimal | None, value: Decimal, daily: bool) -> None:
        if limit is None:
            return
        if value >= limit:
            self._trip(name, self.config.on_loss, f"{_fmt(value)} >= {limit}", daily=daily)

    def current_pnl(self) -> Decimal:
        """Realized P&L minus fees plus unrealized P&L at the marks, over every symbol: the
        run's ledger's formula (:class:`hayate.orders.Position`) at the same marks
        (:class:`hayate.accounting.BookMarks`), so it equals the run's net P&L."""
        total = _ZERO
        for sym, pos in self.orders.positions.items():
            total += pos.realized_pnl - pos.fees
            if pos.size:
                total += pos.unrealized_pnl(self.mark(sym))
        return total

    def mark(self, symbol: str) -> Decimal | None:
        """The price positions are valued at: the book's mid, else the last trade."""
        return self.marks.mark(symbol)

    # -- acting ----------------------------------------------------------------------------------
    def _trip(self, reason: str, action: BreakerAction, detail: str, *, daily: bool = False
              ) -> None:
        if reason in self._tripped:
            return  # still tripped: already acted
        self._tripped.add(reason)
        self._count_trip(reason)
        target = "reduce_only" if action == "reduce_only" else "halted"
        log.warning("risk breaker %s tripped (%s): %s", reason, detail,
                    "stopping the bot" if action == "stop" else target.replace("_", "-"))
        if _RANK[target] > _RANK[self.mode]:
            self.mode = target
            self.mode_reason = reason
            self._mode_daily = daily
            self._pending.append(CancelAll())
            self._attention = True
        elif _RANK[target] == _RANK[self.mode] and not daily:
            self._mode_daily = False  # a run breaker holds it now: midnight does not lift it
        if action == "stop" and self._stop is None:
            self._stop = f"risk: {reason}"
            self._attention = True
        if action == "flatten" and self._flattening is None:
            self._flatten = self._flattening = f"risk: {reason}"
            self._attention = True

    def _count_trip(self, reason: str) -> None:
        self.trips[reason] = self.trips.get(reason, 0) + 1
        self.metrics.inc("risk_trips", 1, reason=reason)

    def _new_day(self) -> None:
        log.info("new UTC day: lifting %s (%s)", self.mode.replace("_", "-"), self.mode_reason)
        self.mode = "normal"
        self.mode_reason = ""
        self._mode_daily = False
        self._tripped.discard("max_daily_loss")
        self._tripped.discard("max_daily_drawdown")

    def halt(self, reason: str) -> None:
        """Block every new order for the rest of the run (the kill switch)."""
        self._count_trip(reason)
        self.mode = "halted"
        self.mode_reason = reason
        self._mode_daily = False

    def take_actions(self) -> list[Action]:
        """The actions breakers queued (cancels), recorded as sent."""
        acts, self._pending = self._pending, []
        self._attention = self._stop is not None and not self._stop_taken
        now = self.clock.now()
        for a in acts:
            self.orders.on_action(a, now)
        return acts

    def take_flatten(self) -> str | None:
        """The reason a breaker wants every position closed, once."""
        reason, self._flatten = self._flatten, None
        if reason is not None:
            self._attention = bool(self._pending) or (self._stop is not None
                                                      and not self._stop_taken)
        return reason

    def take_stop(self) -> str | None:
        """The reason a breaker wants the bot stopped, once."""
        if self._stop is not None and not self._stop_taken:
            self._stop_taken = True
            self._attention = bool(self._pending)
            return self._stop
        return None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "reason": self.mode_reason or None,
                               "trips": dict(sorted(self.trips.items()))}
        if self.active:
            if self.fills or self.orders.positions:
                self.pnl.update(self.clock.now(), self.current_pnl())  # as the run ended
            out.update({
                "pnl": _fmt(self.pnl.pnl),
                "peak_pnl": _fmt(self.pnl.peak),
                "max_drawdown": _fmt(self.pnl.max_drawdown),
                "fills": self.fills,
                "max_abs_position": {s: str(v) for s, v in sorted(self.max_abs_position.items())},
                "open_orders": len(self.orders.open_orders()),
            })
        return out


def _fmt(d: Decimal) -> str:
    """A P&L figure for people: 8 decimal places at most, no trailing zeros."""
    q = d.quantize(Decimal("1e-8")).normalize()
    return f"{q:f}"
