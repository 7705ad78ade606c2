"""Where the live venue and its twin part: per order, per fill, over time.

One :class:`Divergence` per twin hears, in time order, the actions the bot sent to the live
executor (:meth:`~Divergence.sent`), the live venue's reports (:meth:`~Divergence.live`),
the twin's reports (:meth:`~Divergence.twin`) and the passing of venue time with the
twin's marks (:meth:`~Divergence.market`). From them:

- per order, the outcome on each venue (:mod:`.outcomes`), time to first fill, average
  fill price and fees; a row per order once both venues are done with it;
- the confusion matrix of outcomes (live outcome x twin outcome) and the fill ratios;
- latency samples per venue: ``ack`` (sent -> first report heard), ``entry`` (sent -> the
  venue's time of the first report), ``response`` (venue time -> heard, every report),
  ``cancel``/``amend`` (sent -> the venue's time of the report that shows it done) and
  ``cancel_ack``;
- per fill, markouts at :data:`HORIZONS` (the mark that long after the fill against the
  fill price, in basis points, positive when the fill was good for us);
- every ``interval`` of venue time, each venue's net P&L per symbol at the twin's marks,
  counting the fills of each venue by *venue* time (a sample is written once reports up to
  :data:`SERIES_LAG` late can have arrived, so the live venue's slower reports do not show
  as a difference).

Rows go to a :class:`ShadowSink` (the journal) as they are complete, so memory holds only
orders still open on one of the venues.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate.clock import NS
from hayate.events import Event, Fill, OrderStatus, OrderUpdate, Side
from hayate.instruments import InstrumentRegistry
from hayate.shadow.outcomes import OUTCOMES, ShadowOrder, VenueOutcome
from hayate.shadow.samples import Samples, ks_two_sample

__all__ = ["HORIZONS", "LATENCY_KINDS", "Divergence", "ShadowSink"]

HORIZONS: tuple[tuple[str, int], ...] = (("1s", NS), ("10s", 10 * NS), ("60s", 60 * NS))
"""Markout horizons: (label, nanoseconds)."""

LATENCY_KINDS = ("ack", "entry", "response", "cancel", "cancel_ack", "amend")

SERIES_LAG = 2 * NS
"""How long a P&L sample waits for reports of fills made before it."""

_ZERO = Decimal(0)
_BPS = Decimal(10_000)
_CANCELLED = frozenset({OrderStatus.CANCELLED, OrderStatus.PARTIALLY_FILLED_CANCELLED})


class ShadowSink(Protocol):
    """Where complete rows go (the journal's shadow tables, docs/journal-schema.md)."""

    def order(self, row: tuple[Any, ...]) -> None: ...
    def fill(self, row: tuple[Any, ...]) -> None: ...
    def series(self, row: tuple[Any, ...]) -> None: ...
    def latency(self, row: tuple[Any, ...]) -> None: ...


class _Book:
    """One venue's position, cash and fees per symbol, in the quote currency."""

    def __init__(self) -> None:
        self.position: dict[str, Decimal] = {}
        self.cash: dict[str, Decimal] = {}
        self.fees: dict[str, Decimal] = {}

    def fill(self, ev: Fill, fee_quote: Decimal) -> None:
        sym = ev.symbol
        signed = ev.qty if ev.side is Side.BUY else -ev.qty
        self.position[sym] = self.position.get(sym, _ZERO) + signed
        self.cash[sym] = self.cash.get(sym, _ZERO) - signed * ev.price
        self.fees[sym] = self.fees.get(sym, _ZERO) + fee_quote

    def net(self, sym: str, mark: Decimal | None) -> Decimal:
        pos = self.position.get(sym, _ZERO)
        value = pos * mark if (pos and mark is not None) else _ZERO
        return self.cash.get(sym, _ZERO) + value - self.fees.get(sym, _ZERO)


def _s(d: Decimal | None, places: int | None = None) -> str | None:
    if d is None:
        return None
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places))
    return str(d)


class Divergence:
    """The comparison of one live executor with one twin (see the module docstring)."""

    def __init__(self, twin_id: str, live_id: str, instruments: InstrumentRegistry, *,
                 sink: ShadowSink | None = None, interval_ns: int = NS, seed: int = 0) -> None:
        self.twin_id = twin_id
        self.live_id = live_id
        self.instruments = instruments
        self.sink = sink
        self.interval = interval_ns
        self.orders: dict[str, ShadowOrder] = {}
        self.confusion: dict[str, dict[str, int]] = {a: dict.fromkeys(OUTCOMES, 0) for a in OUTCOMES}
        self.n_orders = 0
        self.qty = {"live": _ZERO, "twin": _ZERO}  # size of the orders each venue knew
        self.filled = {"live": _ZERO, "twin": _ZERO}
        self.fill_error = _ZERO  # sum over compared orders of |live filled - twin filled|
        self.compared_qty = _ZERO  # their size
        self.fees = {"live": _ZERO, "twin": _ZERO}
        self.fills = {"live": 0, "twin": 0}
        self.latency = {who: {k: Samples(seed=seed) for k in LATENCY_KINDS}
                        for who in ("live", "twin")}
        self.time_to_fill = {"live": Samples(seed=seed), "twin": Samples(seed=seed)}
        self.fill_time_diff = Samples(seed=seed)  # twin - live, orders filled on both
        self.price_better = Samples(seed=seed)  # twin's average price better by, bps
        self.books = {"live": _Book(), "twin": _Book()}
        self.markouts: dict[str, dict[str, list[Decimal]]] = {
            who: {label: [_ZERO, _ZERO] for label, _ in HORIZONS} for who in ("live", "twin")}
        # pending markouts per horizon: (due, record); a record is
        # [who, fill, mark at fill, markout per horizon..., horizons left]
        self._due: list[deque[tuple[int, list[Any]]]] = [deque() for _ in HORIZONS]
        self._next_sample: int | None = None
        # fills heard but not yet in the books (by venue time), and samples waiting for them
        self._unbooked: dict[str, deque[tuple[Fill, Decimal]]] = {"live": deque(), "twin": deque()}
        self._samples: deque[tuple[int, Mapping[str, Decimal | None]]] = deque()
        self.now = 0
        self.unmatched = {"live": 0, "twin": 0}  # reports of orders the bot never sent
        self.last_marks: Mapping[str, Decimal | None] = {}
        self._marks: Callable[[], Mapping[str, Decimal | None]] = dict

    # -- what the bot sent -------------------------------------------------------------------
    def sent(self, action: Action, t: int) -> None:
        if isinstance(action, PlaceOrder):
            if action.client_id in self.orders:
                return  # the same id again: the venue refuses it, the first one stands
            self.orders[action.client_id] = ShadowOrder(action, t)
            self.n_orders += 1
        elif isinstance(action, CancelOrder):
            o = self.orders.get(action.client_id)
            if o is not None and o.cancel_sent is None:
                o.cancel_sent = t
        elif isinstance(action, AmendOrder):
            o = self.orders.get(action.client_id)
            if o is not None:
                o.amend_sent = t
                o.amend_to = (action.price if action.price is not None else o.price,
                              action.qty if action.qty is not None else o.qty)
                o.amend_wait = {"live", "twin"}
        elif isinstance(action, CancelAll):
            for o in self.orders.values():
                if (not action.symbol or o.symbol == action.symbol) and o.cancel_sent is None:
                    o.cancel_sent = t

    # -- what the venues said ----------------------------------------------------------------
    def live(self, ev: Event) -> None:
        self._report("live", ev)

    def twin(self, ev: Event) -> None:
        self._report("twin", ev)

    def _report(self, who: str, ev: Event) -> None:
        if not isinstance(ev, OrderUpdate | Fill):
            return
        o = self.orders.get(ev.client_id)
        if o is None:
            self.unmatched[who] += 1
            return
        side: VenueOutcome = getattr(o, who)
        recv = ev.recv_ts or ev.ts
        # A report the executor stated itself (an order withdrawn before it was sent has no
        # venue order id; its own statements are stamped when made) says nothing about the
        # venue's latency.
        timed = bool(ev.order_id) and recv != ev.ts
        if timed:
            self._latency(who, "response", o, recv - ev.ts, ev.ts)
        if isinstance(ev, Fill):
            first = not side.fills
            side.on_fill(ev)
            self._on_fill(who, ev)
            if first:
                self.time_to_fill[who].add(recv - o.sent_ts)
        else:
            was_final = side.status is not None and side.status.is_final
            if side.on_update(ev) and ev.order_id:
                self._latency(who, "ack", o, recv - o.sent_ts, ev.ts)
                self._latency(who, "entry", o, ev.ts - o.sent_ts, ev.ts)
            if o.cancel_sent is not None and not was_final and ev.status in _CANCELLED \
                    and not side.immediate_final and timed:
                self._latency(who, "cancel", o, ev.ts - o.cancel_sent, ev.ts)
                self._latency(who, "cancel_ack", o, recv - o.cancel_sent, ev.ts)
            if o.amend_sent is not None and who in o.amend_wait and not ev.status.is_final \
                    and (ev.price, ev.qty) == o.amend_to and timed:
                o.amend_wait.discard(who)
                self._latency(who, "amend", o, ev.ts - o.amend_sent, ev.ts)
        if o.done:
            self._close(o)

    def _latency(self, who: str, kind: str, o: ShadowOrder, value: int, ts: int) -> None:
        self.latency[who][kind].add(value)
        self._sink_latency(who, kind, o, value, ts)

    def _sink_latency(self, who: str, kind: str, o: ShadowOrder, value: int, ts: int) -> None:
        if self.sink is not None:
            self.sink.latency((ts, self.live_id if who == "live" else self.twin_id, kind,
                               o.client_id, int(value)))

    def _on_fill(self, who: str, ev: Fill) -> None:
        inst = self.instruments.get(ev.symbol)
        fee = ev.fee
        if inst is not None and ev.fee_asset and ev.fee_asset == inst.base and inst.category == "spot":
            fee = fee * ev.price  # a spot buy pays its fee in the coin received
        self._unbooked[who].append((ev, fee))
        self.fees[who] += fee
        self.fills[who] += 1
        mark = self._marks().get(ev.symbol)
        rec: list[Any] = [who, ev, mark, *([None] * len(HORIZONS)), len(HORIZONS)]
        for i, (_, h) in enumerate(HORIZONS):
            self._due[i].append((ev.ts + h, rec))

    # -- time --------------------------------------------------------------------------------
    def market(self, t: int, marks: Callable[[], Mapping[str, Decimal | None]]) -> None:
        """Venue time reached ``t``; ``marks()`` gives the twin's marks (called only when
        a markout or a P&L sample is due)."""
        if t < self.now:
            return
        self.now = t
        self._marks = marks
        fresh = False
        for i, dq in enumerate(self._due):
            while dq and dq[0][0] <= t:
                if not fresh:
                    self.last_marks = marks()
                    fresh = True
                _, rec = dq.popleft()
                self._markout(rec, i)
        nxt = self._next_sample
        if nxt is None:
            self._next_sample = (t // self.interval + 1) * self.interval
            self.last_marks = marks()
        elif t >= nxt:
            if not fresh:
                self.last_marks = marks()
            self._samples.append((t, self.last_marks))
            self._next_sample = (t // self.interval + 1) * self.interval
        samples = self._samples
        while samples and samples[0][0] + SERIES_LAG <= t:
            self._sample(*samples.popleft())

    def _markout(self, rec: list[Any], i: int) -> None:
        who, ev = rec[0], rec[1]
        mark = self.last_marks.get(ev.symbol)
        if mark is not None and ev.price:
            sign = 1 if ev.side is Side.BUY else -1
            bps = (mark - ev.price) / ev.price * _BPS * sign
            rec[3 + i] = bps
            acc = self.markouts[who][HORIZONS[i][0]]
            acc[0] += bps * ev.qty
            acc[1] += ev.qty
        rec[-1] -= 1
        if rec[-1] == 0:
            self._fill_row(rec)

    def _fill_row(self, rec: list[Any]) -> None:
        if self.sink is None:
            return
        who, ev, mark = rec[0], rec[1], rec[2]
        marks = [_s(m, 4) for m in rec[3:3 + len(HORIZONS)]]
        self.sink.fill((self.twin_id, who, ev.fill_id, ev.client_id, ev.ts, ev.recv_ts or ev.ts,
                        ev.symbol, ev.side.value, str(ev.price), str(ev.qty), str(ev.fee),
                        ev.fee_asset, ev.liquidity.value, _s(mark), *marks))

    def _book(self, until: int | None) -> None:
        """Fills made by venue time ``until`` (None: all heard) into each venue's books."""
        for who, pending in self._unbooked.items():
            book = self.books[who]
            while pending and (until is None or pending[0][0].ts <= until):
                ev, fee = pending.popleft()
                book.fill(ev, fee)

    def _sample(self, t: int, marks: Mapping[str, Decimal | None]) -> None:
        self._book(t)
        if self.sink is None:
            return
        live, twin = self.books["live"], self.books["twin"]
        for sym in sorted(set(live.position) | set(twin.position)):
            mark = marks.get(sym)
            self.sink.series((self.twin_id, t, sym, _s(live.net(sym, mark), 8),
                              _s(twin.net(sym, mark), 8),
                              _s(live.position.get(sym, _ZERO)), _s(twin.position.get(sym, _ZERO))))

    # -- orders ------------------------------------------------------------------------------
    def _close(self, o: ShadowOrder) -> None:
        """``o`` is done (or the run ended): count it and write its row."""
        self.orders.pop(o.client_id, None)
        lo, to = o.live.outcome(o), o.twin.outcome(o)
        self.confusion[lo][to] += 1
        for who, side in (("live", o.live), ("twin", o.twin)):
            if side.status is not None or side.fills:
                self.qty[who] += side.qty if side.qty is not None else o.qty
            self.filled[who] += side.filled_qty
        if lo != "unknown" and to != "unknown":
            self.fill_error += abs(o.live.filled_qty - o.twin.filled_qty)
            self.compared_qty += o.live.qty if o.live.qty is not None else o.qty
        la, ta = o.live.avg_price, o.twin.avg_price
        if la is not None and ta is not None and la:
            better = (la - ta) if o.side is Side.BUY else (ta - la)
            self.price_better.add(float(better / la * _BPS))
        lf, tf = o.live.first_fill_recv, o.twin.first_fill_recv
        if lf is not None and tf is not None:
            self.fill_time_diff.add(tf - lf)
        if self.sink is not None:
            row: list[Any] = [self.twin_id, self.live_id, o.client_id, o.symbol, o.side.value,
                              o.order_type, o.time_in_force, _s(o.price), str(o.qty), o.sent_ts]
            for side, outcome in ((o.live, lo), (o.twin, to)):
                ack = None if side.first_recv is None else side.first_recv - o.sent_ts
                ttf = None if side.first_fill_recv is None else side.first_fill_recv - o.sent_ts
                row += [outcome, side.status.value if side.status else "", ack, str(side.filled_qty),
                        _s(side.avg_price, 8), str(side.fee), ttf, side.reason]
            self.sink.order(tuple(row))

    def finish(self) -> None:
        """The run ended: every order still open somewhere is closed as it stands, and
        every pending markout is written without the horizons that never came."""
        while self._samples:
            self._sample(*self._samples.popleft())
        self._book(None)
        if self._next_sample is not None:
            self.last_marks = self._marks()
            self._sample(self.now, self.last_marks)
        for o in list(self.orders.values()):
            self._close(o)
        seen: set[int] = set()
        for dq in self._due:
            while dq:
                _, rec = dq.popleft()
                if id(rec) not in seen:
                    seen.add(id(rec))
                    self._fill_row(rec)

    # -- the figures -------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        compared = sum(n for lo, row in self.confusion.items() for to, n in row.items()
                       if lo != "unknown" and to != "unknown")
        same = sum(self.confusion[x][x] for x in OUTCOMES if x != "unknown")

        def ratio(who: str) -> str | None:
            q = self.qty[who]
            return _s(self.filled[who] / q, 4) if q else None

        live_net = sum((self.books["live"].net(s, self.last_marks.get(s))
                        for s in self.books["live"].position), _ZERO)
        twin_net = sum((self.books["twin"].net(s, self.last_marks.get(s))
                        for s in self.books["twin"].position), _ZERO)
        outcomes = {who: {x: sum(self.confusion[x].values()) if who == "live"
                          else sum(self.confusion[lo][x] for lo in OUTCOMES)
                          for x in OUTCOMES} for who in ("live", "twin")}
        n = self.n_orders - len(self.orders)  # closed so far (all of them after finish())
        distance = (sum(abs(outcomes["live"][x] - outcomes["twin"][x]) for x in OUTCOMES)
                    / 2 / n) if n else None
        lr, tr = ratio("live"), ratio("twin")
        out: dict[str, Any] = {
            "venue": self.live_id,
            "orders": self.n_orders,
            "compared": compared,
            # The key figures: 0 when the twin does what the venue did.
            "agreement": round(same / compared, 4) if compared else None,
            "outcome_distance": None if distance is None else round(distance, 4),
            "fill_ratio_gap": None if lr is None or tr is None
            else _s(abs(Decimal(lr) - Decimal(tr)), 4),
            "ack_ks": ks_two_sample(self.latency["live"]["ack"], self.latency["twin"]["ack"]),
            "confusion": {lo: {to: n for to, n in row.items() if n}
                          for lo, row in self.confusion.items() if any(row.values())},
            "outcomes": outcomes,
            "fill_ratio": {"live": lr, "twin": tr},
            "fill_qty_error": _s(self.fill_error / self.compared_qty, 4)
            if self.compared_qty else None,
            "fills": dict(self.fills),
            "filled_qty": {k: str(v) for k, v in self.filled.items()},
            "fees": {k: _s(v, 8) for k, v in self.fees.items()},
            "net_pnl": {"live": _s(live_net, 8), "twin": _s(twin_net, 8),
                        "twin_minus_live": _s(twin_net - live_net, 8)},
            "time_to_fill_ms": {k: v.summary(1e6) for k, v in self.time_to_fill.items()},
            "fill_time_diff_ms": self.fill_time_diff.summary(1e6),
            "fill_price_better_bps": self.price_better.summary(1.0, 4),
            "latency_ms": {kind: {who: self.latency[who][kind].summary(1e6)
                                  for who in ("live", "twin")} for kind in LATENCY_KINDS},
            "markout_bps": {label: {who: _s(acc[0] / acc[1], 4) if acc[1] else None
                                    for who, acc in ((w, self.markouts[w][label])
                                                     for w in ("live", "twin"))}
                            for label, _ in HORIZONS},
        }
        if any(self.unmatched.values()):
            out["unmatched_reports"] = dict(self.unmatched)
        return out
