"""``mm.dynamic``: a spread that follows volatility (NATR) and leans away from trends (RSI)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from hayate.book.book import OrderBook
from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Event, Trade
from hayate.spec.models import Duration
from hayate_strategies.indicators import ATR, RSI, BarSampler
from hayate_strategies.market_making.base import LadderMarketMaker, SymbolQuotes
from hayate_strategies.market_making.params import MultiSymbolConfig, QuoteParams

__all__ = ["DynamicMarketMaker", "DynamicParams"]


class DynamicParams(QuoteParams):
    base_spread_bps: float = Field(
        description="Spread (bps of the mid) before volatility is added; also the spread while "
                    "the indicators warm up.", ge=0)
    natr_multiplier: float = Field(
        1.0, ge=0, description="Bps of spread added per bp of NATR (ATR as a share of the price).")
    min_spread_bps: float = Field(0.0, ge=0, description="Narrowest spread quoted.")
    max_spread_bps: float | None = Field(None, gt=0, description="Widest spread quoted.")
    natr_period: int = Field(14, ge=1, description="ATR period, in sampled bars.")
    rsi_period: int = Field(14, ge=1, description="RSI period, in sampled bars.")
    rsi_upper: float = Field(70.0, gt=0, lt=100, description="RSI above this widens the ask side.")
    rsi_lower: float = Field(30.0, gt=0, lt=100, description="RSI below this widens the bid side.")
    rsi_widen: float = Field(
        1.0, ge=0, description="How much a trend widens the side it runs into: at RSI 100 the ask "
                               "half-spread is multiplied by 1 + rsi_widen (at RSI 0, the bid's).")
    sample_interval: Duration = Field(
        1.0, gt=0, description="Bar length for the indicators (seconds or '500ms', '1m').")
    sample_source: Literal["mid", "trades"] = Field(
        "mid", description="Build bars from the book's mid price or from public trades.")
    skew_bps_per_unit: float = Field(
        0.0, ge=0, description="Inventory skew, as in mm.simple (bps of the mid per unit).")

    @model_validator(mode="after")
    def _bounds(self) -> DynamicParams:
        if self.rsi_lower >= self.rsi_upper:
            raise ValueError("rsi_lower must be below rsi_upper")
        if self.max_spread_bps is not None and self.max_spread_bps < self.min_spread_bps:
            raise ValueError("max_spread_bps is below min_spread_bps")
        return self


class DynamicMMConfig(MultiSymbolConfig, DynamicParams):
    params_model: ClassVar[type[QuoteParams]] = DynamicParams


class _Signals:
    """One symbol's bars and indicators."""

    __slots__ = ("atr", "q", "rsi", "sampler")

    def __init__(self, q: SymbolQuotes, p: DynamicParams) -> None:
        self.q = q
        self.rsi = RSI(p.rsi_period)
        self.atr = ATR(p.natr_period)
        self.sampler = BarSampler(int(p.sample_interval * NS), self.on_bar)

    def on_bar(self, open_: float, high: float, low: float, close: float) -> None:
        self.rsi.update(close)
        self.atr.update(high, low, close)
        self.q.dirty = True  # a new bar moves the spread: recompute on this event


class DynamicMarketMaker(LadderMarketMaker):
    """Dynamic-spread market maker: NATR sets the width, RSI the asymmetry.

    Prices are sampled into bars of ``sample_interval`` (mid prices or trades). Then::

        spread = clamp(base_spread_bps + natr_multiplier * NATR_bps,
                       min_spread_bps, max_spread_bps)
        ask half-spread *= 1 + rsi_widen * max(0, (RSI - rsi_upper) / (100 - rsi_upper))
        bid half-spread *= 1 + rsi_widen * max(0, (rsi_lower - RSI) / rsi_lower)

    A strong up-move (high RSI) widens the asks, the side takers keep lifting in a
    rising market; a strong down-move widens the bids. Until the indicators have seen
    enough bars the spread is ``base_spread_bps`` (clamped) with no RSI lean. Inventory
    skew and every other quoting rule are those of ``mm.simple``.
    """

    kind: ClassVar[str] = "mm.dynamic"
    Config: ClassVar[type[DynamicMMConfig]] = DynamicMMConfig
    observes_market: ClassVar[bool] = True

    def make_model(self, q: SymbolQuotes) -> _Signals:
        return _Signals(q, q.params)  # type: ignore[arg-type]

    def observe(self, q: SymbolQuotes, event: Event, book: OrderBook) -> None:
        sig: _Signals = q.model
        t = type(event)
        if q.params.sample_source == "mid":  # type: ignore[attr-defined]
            if (t is BookDelta or t is BookSnapshot) and book.valid:
                m2 = book.mid2()
                if m2 is not None:
                    sig.sampler.update(event.recv_ts or event.ts, m2 / 2)
        elif type(event) is Trade:  # (not `t`: mypy narrows on this form only)
            sig.sampler.update(event.recv_ts or event.ts, event.price)

    def spread_bps(self, q: SymbolQuotes) -> tuple[float, float]:
        """(bid half-spread, ask half-spread) in bps of the mid, from the indicators."""
        p: DynamicParams = q.params  # type: ignore[assignment]
        sig: _Signals = q.model
        spread = p.base_spread_bps
        natr = sig.atr.natr
        if natr is not None:
            spread += p.natr_multiplier * natr * 100.0  # NATR is a percentage: 1 % = 100 bps
        spread = max(spread, p.min_spread_bps)
        if p.max_spread_bps is not None:
            spread = min(spread, p.max_spread_bps)
        bid = ask = spread / 2
        rsi = sig.rsi.value
        if rsi is not None and p.rsi_widen:
            if rsi > p.rsi_upper:
                ask *= 1.0 + p.rsi_widen * (rsi - p.rsi_upper) / (100.0 - p.rsi_upper)
            elif rsi < p.rsi_lower:
                bid *= 1.0 + p.rsi_widen * (p.rsi_lower - rsi) / p.rsi_lower
        return bid, ask

    def quote_reference(self, q: SymbolQuotes, view: Any, book: OrderBook, position: Decimal
                        ) -> tuple[float, float, float] | None:
        p: DynamicParams = q.params  # type: ignore[assignment]
        m2 = book.mid2()
        assert m2 is not None
        mid = m2 / 2
        centre = mid
        if p.skew_bps_per_unit and position:
            centre = mid * (1.0 - p.skew_bps_per_unit * float(position) / 1e4)
        bid_bps, ask_bps = self.spread_bps(q)
        return centre, mid * bid_bps / 1e4, mid * ask_bps / 1e4

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out["indicators"] = {
            s: {"rsi": _round(q.model.rsi.value), "natr_pct": _round(q.model.atr.natr),
                "half_spread_bps": [round(x, 3) for x in self.spread_bps(q)]}
            for s, q in self.quotes.items()
        }
        return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
