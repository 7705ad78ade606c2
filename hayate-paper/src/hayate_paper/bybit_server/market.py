"""The exchange's public side: one book, the recent trades and the 24 h figures per symbol.

Fed by a Hayate market-data collector (see :mod:`.feed`) or by hand (the control endpoint,
tests). Every batch is applied here first, then handed to the listeners: each account's
matching engine and the public WebSocket topics. Prices and sizes stay integer units of
the instrument; they become text only on the way out.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hayate.book.book import OrderBook
from hayate.events import BookDelta, BookSnapshot, Event, Side, Ticker, Trade
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.numbers import Sign, parse_decimal
from hayate_paper.account import assets_of
from hayate_paper.bybit_server.wire import fmt, now_ns, price_text

__all__ = ["Market", "MarketChanges", "PublicTrade", "SymbolMarket"]

log = logging.getLogger("hayate_paper.bybit_server.market")

_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000
_MINUTE_MS = 60_000
_FUNDING_MS = 8 * _HOUR_MS
_TRADES_KEPT = 1000


@dataclass(slots=True)
class PublicTrade:
    id: str
    price: int
    qty: int
    side: Side  # taker side
    t_ms: int
    seq: int
    tick: str  # PlusTick, ZeroPlusTick, MinusTick, ZeroMinusTick


@dataclass(slots=True)
class MarketChanges:
    """What one batch changed: listeners publish only that."""

    books: set[str] = field(default_factory=set)
    trades: dict[str, list[PublicTrade]] = field(default_factory=dict)
    tickers: set[str] = field(default_factory=set)


class SymbolMarket:
    """One symbol's public state."""

    def __init__(self, inst: Instrument, raw_info: dict[str, Any] | None = None) -> None:
        self.inst = inst
        self.symbol = inst.symbol
        self.spot = inst.category == "spot"
        self.raw_info = raw_info
        self.base, self.quote, self.settle = assets_of(inst, "USDT")
        self.book = OrderBook(inst.symbol)
        self.book_updates = 0  # the REST order book's ``u``
        self.seq = 0  # cross sequence: grows with every market event of this symbol
        self.cts_ms = 0  # venue time of the last change
        self.trades: deque[PublicTrade] = deque(maxlen=_TRADES_KEPT)
        self.last_price: int | None = None
        self.tick_direction = "ZeroPlusTick"
        # 24 h figures from one bucket per minute: minute -> [open, high, low, volume, turnover]
        self.buckets: dict[int, list[Any]] = {}
        self.overlay: dict[str, Any] = {}  # ticker fields a live source supplied
        self._numeric_ids = itertools.count(1)
        self._text: dict[tuple[int, int], str] = {}

    # -- text ------------------------------------------------------------------------------
    def px(self, units: int) -> str:
        """A price in units as Bybit writes it for this category."""
        key = (0, units)
        s = self._text.get(key)
        if s is None:
            s = price_text(self.inst.price(units), self.inst.price_decimals, self.spot)
            if len(self._text) < 100_000:
                self._text[key] = s
        return s

    def qty(self, units: int) -> str:
        key = (1, units)
        s = self._text.get(key)
        if s is None:
            s = price_text(self.inst.qty(units), self.inst.qty_decimals, self.spot)
            if len(self._text) < 100_000:
                self._text[key] = s
        return s

    # -- updates ---------------------------------------------------------------------------
    def trade_id(self) -> str:
        return str(2_100_000_000_000_000_000 + next(self._numeric_ids)) if self.spot else str(uuid.uuid4())

    def add_trade(self, price: int, qty: int, side: Side, t_ms: int) -> PublicTrade:
        last = self.last_price
        if last is None or price == last:
            tick = "ZeroPlusTick" if self.tick_direction in ("PlusTick", "ZeroPlusTick") else "ZeroMinusTick"
        else:
            tick = "PlusTick" if price > last else "MinusTick"
        self.tick_direction = tick
        self.last_price = price
        tr = PublicTrade(self.trade_id(), price, qty, side, t_ms, self.seq, tick)
        self.trades.append(tr)
        minute = t_ms // _MINUTE_MS
        b = self.buckets.get(minute)
        notional = self.inst.price(price) * self.inst.qty(qty)
        if b is None:
            self.buckets[minute] = [price, price, price, qty, notional]
            old = minute - _DAY_MS // _MINUTE_MS - 1
            for m in [m for m in self.buckets if m < old]:
                del self.buckets[m]
        else:
            if price > b[1]:
                b[1] = price
            if price < b[2]:
                b[2] = price
            b[3] += qty
            b[4] += notional
        return tr

    # -- figures ---------------------------------------------------------------------------
    def mark_units2(self) -> int | None:
        m = self.book.mid2()
        if m is not None:
            return m
        return None if self.last_price is None else 2 * self.last_price

    def mark_price(self) -> Decimal | None:
        m2 = self.mark_units2()
        return None if m2 is None else (Decimal(m2) / 2).scaleb(-self.inst.price_decimals)

    def _mark_text(self) -> str:
        m = self.mark_price()
        return "" if m is None else price_text(m, self.inst.price_decimals, self.spot)

    def ticker(self, now_ms: int, rest: bool = False) -> dict[str, str]:
        """The ticker as Bybit writes it (WS and REST differ a little; see the samples)."""
        inst = self.inst
        day_start = now_ms // _MINUTE_MS - _DAY_MS // _MINUTE_MS
        hour_start = now_ms // _MINUTE_MS - _HOUR_MS // _MINUTE_MS
        live = sorted(m for m in self.buckets if m > day_start)
        last = self.last_price
        if last is None:
            m2 = self.book.mid2()
            last = None if m2 is None else m2 // 2
        high = max((self.buckets[m][1] for m in live), default=last)
        low = min((self.buckets[m][2] for m in live), default=last)
        prev24 = self.buckets[live[0]][0] if live else last
        hour = [m for m in live if m > hour_start]
        prev1h = self.buckets[hour[0]][0] if hour else last
        volume = sum((self.buckets[m][3] for m in live), 0)
        turnover = sum((self.buckets[m][4] for m in live), Decimal(0))
        pct = ""
        if last is not None and prev24:
            pct = fmt((Decimal(last - prev24) / Decimal(prev24)).quantize(Decimal("0.000001")))
        p = self.px

        def opt(units: int | None) -> str:
            return "" if units is None else p(units)

        bid, ask = self.book.best_bid, self.book.best_ask
        fields: dict[str, str] = {"symbol": self.symbol}
        turnover_text = fmt(turnover.quantize(Decimal("0.0001")))
        volume_text = fmt(inst.qty(volume))
        if self.spot:
            if rest:
                fields.update(bid1Price=opt(bid), bid1Size=self.qty(self.book.bids[bid]) if bid else "",
                              ask1Price=opt(ask), ask1Size=self.qty(self.book.asks[ask]) if ask else "")
            fields.update(lastPrice=opt(last), prevPrice24h=opt(prev24), price24hPcnt=pct,
                          highPrice24h=opt(high), lowPrice24h=opt(low), turnover24h=turnover_text,
                          volume24h=volume_text, usdIndexPrice=self._mark_text())
        else:
            mark = self._mark_text()
            oi = "0"
            next_funding = str((now_ms // _FUNDING_MS + 1) * _FUNDING_MS)
            if rest:
                fields.update(lastPrice=opt(last), indexPrice=mark, markPrice=mark,
                              prevPrice24h=opt(prev24), price24hPcnt=pct, highPrice24h=opt(high),
                              lowPrice24h=opt(low), prevPrice1h=opt(prev1h), openInterest=oi,
                              openInterestValue="0", turnover24h=turnover_text,
                              volume24h=volume_text, fundingRate="0.0001",
                              nextFundingTime=next_funding, predictedDeliveryPrice="",
                              basisRate="", deliveryFeeRate="", deliveryTime="0",
                              ask1Size=self.qty(self.book.asks[ask]) if ask else "",
                              bid1Price=opt(bid), ask1Price=opt(ask),
                              bid1Size=self.qty(self.book.bids[bid]) if bid else "", basis="",
                              preOpenPrice="", preQty="", curPreListingPhase="",
                              fundingIntervalHour="8", basisRateYear="", fundingCap="0.005")
            else:
                fields.update(tickDirection=self.tick_direction, price24hPcnt=pct,
                              lastPrice=opt(last), prevPrice24h=opt(prev24),
                              highPrice24h=opt(high), lowPrice24h=opt(low),
                              prevPrice1h=opt(prev1h), markPrice=mark, indexPrice=mark,
                              openInterest=oi, openInterestValue="0", turnover24h=turnover_text,
                              volume24h=volume_text, fundingIntervalHour="8", fundingCap="0.005",
                              nextFundingTime=next_funding, fundingRate="0.0001",
                              bid1Price=opt(bid), bid1Size=self.qty(self.book.bids[bid]) if bid else "",
                              ask1Price=opt(ask), ask1Size=self.qty(self.book.asks[ask]) if ask else "",
                              preOpenPrice="", preQty="", curPreListingPhase="")
        for k, v in self.overlay.items():
            if k in fields and v is not None and k not in ("symbol",):
                fields[k] = str(v)
        return fields


MarketListener = Callable[[Sequence[Event], int, MarketChanges], None]


class Market:
    """Every symbol's public state, fed in batches; listeners see each batch once applied."""

    def __init__(self, instruments: InstrumentRegistry,
                 raw_info: dict[str, dict[str, Any]] | None = None) -> None:
        self.instruments = instruments
        self.raw_info = dict(raw_info or {})
        self.symbols: dict[str, SymbolMarket] = {}
        self.listeners: list[MarketListener] = []
        self.events_applied = 0
        self.skipped = 0
        for inst in instruments:
            self.add_instrument(inst)

    def add_instrument(self, inst: Instrument) -> SymbolMarket:
        sm = self.symbols.get(inst.symbol)
        if sm is None:
            sm = self.symbols[inst.symbol] = SymbolMarket(inst, self.raw_info.get(inst.symbol))
        return sm

    def get(self, symbol: str) -> SymbolMarket | None:
        sm = self.symbols.get(symbol)
        if sm is None:
            inst = self.instruments.get(symbol)
            if inst is not None:
                sm = self.add_instrument(inst)
        return sm

    def of_category(self, category: str) -> list[SymbolMarket]:
        cat = "linear" if category == "linear" else category
        return [sm for sm in self.symbols.values() if sm.inst.category == cat]

    def apply(self, events: Sequence[Event], t_ns: int | None = None) -> MarketChanges:
        """Apply a batch at wall time ``t_ns`` (default now) and tell every listener."""
        t = now_ns() if t_ns is None else t_ns
        t_ms = t // 1_000_000
        changes = MarketChanges()
        for ev in events:
            tp = type(ev)
            sym = getattr(ev, "symbol", None)
            sm = self.get(sym) if sym is not None else None
            if sm is None:
                if tp in (BookSnapshot, BookDelta, Trade, Ticker):
                    self.skipped += 1
                continue
            self.events_applied += 1
            if isinstance(ev, BookSnapshot | BookDelta):
                if isinstance(ev, BookSnapshot):
                    sm.book.apply_snapshot(ev.bids, ev.asks)
                else:
                    sm.book.apply_delta(ev.bids, ev.asks)
                sm.seq += 1
                sm.book_updates += 1
                sm.cts_ms = t_ms
                changes.books.add(sm.symbol)
                changes.tickers.add(sm.symbol)
            elif isinstance(ev, Trade):
                sm.seq += 1
                sm.cts_ms = t_ms
                tr = sm.add_trade(ev.price, ev.qty, ev.side, t_ms)
                changes.trades.setdefault(sm.symbol, []).append(tr)
                changes.tickers.add(sm.symbol)
            elif tp is Ticker:
                fields = getattr(ev, "fields", None) or {}
                sm.overlay.update({k: v for k, v in fields.items() if v is not None})
                changes.tickers.add(sm.symbol)
        for listener in list(self.listeners):
            listener(events, t, changes)
        return changes

    # -- driving by hand (control endpoint, tests) -------------------------------------------
    def _levels(self, inst: Instrument, levels: Iterable[tuple[Any, Any]]) -> list[tuple[int, int]]:
        return [(inst.price_units(_number(p, "positive", "price")),
                 inst.qty_units(_number(q, "non_negative", "size"))) for p, q in levels]

    def _inst(self, symbol: str) -> Instrument:
        sm = self.get(symbol)
        if sm is None:
            raise KeyError(f"unknown symbol {symbol!r}")
        return sm.inst

    def book_event(self, symbol: str, bids: Iterable[tuple[Any, Any]],
                   asks: Iterable[tuple[Any, Any]], snapshot: bool = True) -> Event:
        inst = self._inst(symbol)
        cls = BookSnapshot if snapshot else BookDelta
        return cls(symbol=symbol, ts=now_ns(), bids=self._levels(inst, bids),
                   asks=self._levels(inst, asks))

    def trade_event(self, symbol: str, price: Any, qty: Any, side: Side | str) -> Event:
        inst = self._inst(symbol)
        return Trade(symbol=symbol, ts=now_ns(),
                     price=inst.price_units(_number(price, "positive", "price")),
                     qty=inst.qty_units(_number(qty, "positive", "trade size")), side=Side(side))


def _number(value: Any, sign: Sign, what: str) -> Decimal:
    """A hand-fed price or size (a string, or a JSON number), read by the strict reader
    venue numbers go through: a value no venue could send (past 48 characters, an exponent,
    a wrong sign) is a ValueError for the control endpoint to answer with a 400."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise TypeError(f"{what} must be a decimal string, not {type(value).__name__}")
    text = str(value)
    if isinstance(value, Decimal) and "E" in text.upper():
        text = format(value, "f")
    return parse_decimal(text, sign=sign, what=what)
