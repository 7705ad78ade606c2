"""One venue's book of account for a run, kept from what the venue reports.

Every executor of a run — a paper exchange, Bybit, a plugin's venue — gets a
:class:`VenueLedger` fed with the same things: the orders the bot sent it, the order
updates and fills it reported, and the bot's marks. Its figures (fills, volume, fees,
realized and unrealized P&L, equity, drawdown, round trips, markouts, quote uptime,
inventory) are therefore computed the same way for every venue, with the exact position
accounting of :class:`hayate.orders.Position`, and satisfy to the last digit::

    net_pnl == realized_pnl + unrealized_pnl - fees
    equity_end == equity_start + net_pnl
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from hayate.events import Fill, Liquidity, OrderStatus, OrderUpdate, Side
from hayate.instruments import InstrumentRegistry
from hayate.orders.position import Position

__all__ = ["MARKOUT_HORIZONS", "Markouts", "RoundTrip", "Sample", "VenueLedger"]

_ZERO = Decimal(0)
_NS = 1_000_000_000

#: Seconds after a fill at which the mid is compared with the fill price.
MARKOUT_HORIZONS: tuple[int, ...] = (1, 10, 60)

_OPEN = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


@dataclass(slots=True)
class RoundTrip:
    """From flat to flat (or to a flip) in one symbol: what it earned, fees included."""

    symbol: str
    opened: int
    closed: int
    pnl: Decimal


@dataclass(slots=True)
class Sample:
    """The venue's P&L at one sample time (equity.csv's rows, the statistics' series)."""

    t: int
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    net: Decimal
    drawdown: Decimal
    positions: dict[str, Decimal]
    marks: dict[str, Decimal | None]


@dataclass(slots=True)
class Markouts:
    """Fills against the mid: at the fill (spread captured) and 1 s / 10 s / 60 s later.

    A fill's markout at horizon h is ``side * (mid(t + h) - price) * qty``: what the fill
    is worth h seconds later. Spread captured minus the markout is adverse selection."""

    fills: int = 0
    notional: Decimal = _ZERO
    captured: Decimal = _ZERO  # side * (mid at the fill - price) * qty, summed
    at: dict[int, Decimal] = field(default_factory=dict)  # horizon -> summed markout
    n_at: dict[int, int] = field(default_factory=dict)  # horizon -> fills measured
    notional_at: dict[int, Decimal] = field(default_factory=dict)


class VenueLedger:
    """The figures of one executor's account over a run (see the module doc)."""

    def __init__(self, venue: str, instruments: InstrumentRegistry,
                 mark: Callable[[str], Decimal | None],
                 mid: Callable[[str], Decimal | None] | None = None) -> None:
        self.venue = venue
        self.instruments = instruments
        self.mark = mark
        self.mid = mid or mark
        self.positions: dict[str, Position] = {}
        self.fill_ids: set[str] = set()
        self.duplicate_fills = 0
        self.orders = 0
        self.fills = 0
        self.maker_fills = 0
        self.taker_fills = 0
        self.volume = _ZERO
        self.final_status: dict[str, OrderStatus] = {}
        self.equity_start: Decimal | None = None
        self.peak = _ZERO
        self.max_drawdown = _ZERO
        self.dd_started: int | None = None  # when the current drawdown began (last peak)
        self.max_dd_ns = 0
        self.samples: list[tuple[int, Decimal]] = []  # (t, net) at every sample
        self.round_trips: list[RoundTrip] = []
        self._trip_open: dict[str, tuple[int, Decimal]] = {}  # symbol -> (t, realized-fees)
        self.markouts = Markouts(at={h: _ZERO for h in MARKOUT_HORIZONS},
                                 n_at={h: 0 for h in MARKOUT_HORIZONS},
                                 notional_at={h: _ZERO for h in MARKOUT_HORIZONS})
        self._pending: dict[int, deque[tuple[int, str, int, Decimal, Decimal]]] = {
            h: deque() for h in MARKOUT_HORIZONS}
        self.next_markout = 1 << 62
        self.first_t: int | None = None
        self.last_t = 0
        # Quotes resting: client id -> (symbol, side); time with both sides quoted.
        self._open: dict[str, tuple[str, Side]] = {}
        self._quoted_since: int | None = None
        self.two_sided_ns = 0
        self.any_quote_ns = 0
        self._any_since: int | None = None
        # Time-weighted |position| per symbol: sum of |size| * dt, and when it last changed.
        self._inv: dict[str, Decimal] = {}
        self._inv_t: dict[str, int] = {}

    # -- what the venue reports ------------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        p = self.positions.get(symbol)
        if p is None:
            inst = self.instruments.get(symbol)
            inverse = inst is not None and inst.category == "inverse"
            p = self.positions[symbol] = Position(symbol, inverse=inverse)
        return p

    def _seen(self, t: int) -> None:
        if self.first_t is None:
            self.first_t = t
        if t > self.last_t:
            self.last_t = t

    def on_order_sent(self, t: int) -> None:
        self._seen(t)
        self.orders += 1

    def on_fill(self, fill: Fill, t: int) -> bool:
        """Book one fill heard at ``t``; False for a fill already booked (same id)."""
        fid = fill.fill_id
        if fid:
            if fid in self.fill_ids:
                self.duplicate_fills += 1
                return False
            self.fill_ids.add(fid)
        self._seen(t)
        sym = fill.symbol
        pos = self.position(sym)
        before = pos.size
        self._inventory(sym, before, t)
        inst = self.instruments.get(sym)
        mult = inst.contract_multiplier if inst is not None else Decimal(1)
        value_before = pos.realized_pnl - pos.fees
        pos.apply_fill(fill.side, fill.price, fill.qty, fill.fee)
        self.fills += 1
        if fill.liquidity is Liquidity.MAKER:
            self.maker_fills += 1
        else:
            self.taker_fills += 1
        notional = fill.price * fill.qty * mult
        self.volume += notional
        self._round_trip(sym, pos, before, value_before, t)
        # Markouts: the mid now, and later at each horizon.
        sign = 1 if fill.side is Side.BUY else -1
        mid = self.mid(sym)
        m = self.markouts
        if mid is not None:
            m.fills += 1
            m.notional += notional
            m.captured += sign * (mid - fill.price) * fill.qty * mult
        for h, q in self._pending.items():
            due = t + h * _NS
            q.append((due, sym, sign, fill.price, fill.qty * mult))
            if due < self.next_markout:
                self.next_markout = due
        return True

    def open_orders(self) -> int:
        """Orders the venue has reported open and not yet ended."""
        return len(self._open)

    def on_order_update(self, ev: OrderUpdate, t: int) -> None:
        self._seen(t)
        cid = ev.client_id or ev.order_id
        self.final_status[cid] = ev.status
        was = cid in self._open
        if ev.status in _OPEN:
            if not was:
                self._quotes_change(t)
                self._open[cid] = (ev.symbol, ev.side)
                self._quotes_changed(t)
        elif was:
            self._quotes_change(t)
            del self._open[cid]
            self._quotes_changed(t)

    def _quotes_change(self, t: int) -> None:
        if self._quoted_since is not None:
            self.two_sided_ns += t - self._quoted_since
            self._quoted_since = None
        if self._any_since is not None:
            self.any_quote_ns += t - self._any_since
            self._any_since = None

    def _quotes_changed(self, t: int) -> None:
        sides = {s for _, s in self._open.values()}
        if sides:
            self._any_since = t
        if len(sides) == 2:
            self._quoted_since = t

    def _inventory(self, sym: str, size: Decimal, t: int) -> None:
        last = self._inv_t.get(sym)
        if last is not None and size:
            self._inv[sym] = self._inv.get(sym, _ZERO) + abs(size) * (t - last)
        self._inv_t[sym] = t

    def _round_trip(self, sym: str, pos: Position, before: Decimal, value_before: Decimal,
                    t: int) -> None:
        """A trip opens at the fill that leaves flat (its fee counts) and closes at the
        fill that makes it flat again or flips it (that fill's fee counts in full)."""
        now = pos.realized_pnl - pos.fees
        after = pos.size
        if before == 0:
            if after != 0:
                self._trip_open[sym] = (t, value_before)
            return
        if after == 0 or (after > 0) != (before > 0):
            opened, base = self._trip_open.pop(sym, (t, now))
            self.round_trips.append(RoundTrip(sym, opened, t, now - base))
            if after != 0:
                self._trip_open[sym] = (t, now)

    # -- time ------------------------------------------------------------------------------------
    def settle_markouts(self, t: int) -> None:
        """Measure the fills whose horizons have passed at ``t`` against the mid now."""
        nxt = 1 << 62
        m = self.markouts
        for h, q in self._pending.items():
            while q and q[0][0] <= t:
                _, sym, sign, price, qty = q.popleft()
                mid = self.mid(sym)
                if mid is None:
                    continue
                m.at[h] += sign * (mid - price) * qty
                m.n_at[h] += 1
                m.notional_at[h] += price * qty
            if q and q[0][0] < nxt:
                nxt = q[0][0]
        self.next_markout = nxt

    # -- valuation -------------------------------------------------------------------------------
    def figures(self) -> tuple[Decimal, Decimal, Decimal, dict[str, Decimal | None]]:
        """(realized, unrealized, fees, marks) now."""
        realized = unrealized = fees = _ZERO
        marks: dict[str, Decimal | None] = {}
        for sym, pos in self.positions.items():
            realized += pos.realized_pnl
            fees += pos.fees
            mark = self.mark(sym)
            marks[sym] = mark
            if pos.size:
                unrealized += pos.unrealized_pnl(mark)
        return realized, unrealized, fees, marks

    def net_pnl(self) -> Decimal:
        realized, unrealized, fees, _ = self.figures()
        return realized + unrealized - fees

    def sample(self, t: int, symbols: list[str] | None = None) -> Sample:
        """The P&L at ``t``; moves the peak, the drawdown and its duration."""
        self._seen(t)
        realized, unrealized, fees, marks = self.figures()
        net = realized + unrealized - fees
        if net >= self.peak:
            if self.dd_started is not None:
                self.max_dd_ns = max(self.max_dd_ns, t - self.dd_started)
            self.peak = net
            self.dd_started = None
        elif self.dd_started is None:
            self.dd_started = self._last_sample_t if self._last_sample_t is not None else t
        dd = self.peak - net
        if dd > self.max_drawdown:
            self.max_drawdown = dd
        self.samples.append((t, net))
        self._last_sample_t = t
        if symbols is not None:
            for s in symbols:
                marks.setdefault(s, self.mark(s))
        return Sample(t, realized, unrealized, fees, net, dd,
                      {s: p.size for s, p in self.positions.items()}, marks)

    _last_sample_t: int | None = None

    def close(self, t: int) -> None:
        """The run ended at ``t``: close the open intervals (quotes, inventory, drawdown)."""
        self._seen(t)
        self._quotes_change(t)
        for sym, pos in self.positions.items():
            self._inventory(sym, pos.size, t)
        if self.dd_started is not None:
            self.max_dd_ns = max(self.max_dd_ns, t - self.dd_started)
        self.settle_markouts(t)

    def time_weighted_inventory(self) -> dict[str, Decimal]:
        span = (self.last_t - self.first_t) if self.first_t is not None else 0
        if span <= 0:
            return {}
        return {s: v / span for s, v in sorted(self._inv.items())}

    @property
    def open_quotes(self) -> int:
        return len(self._open)

