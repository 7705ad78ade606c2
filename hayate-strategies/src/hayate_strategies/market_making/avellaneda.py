"""``mm.avellaneda``: the Avellaneda–Stoikov market maker (reservation price and optimal
spread under inventory risk aversion)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field, model_validator

from hayate.book.book import OrderBook
from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Event
from hayate.spec.models import Duration
from hayate_strategies.indicators import BarSampler, RollingVariance
from hayate_strategies.market_making.base import LadderMarketMaker, SymbolQuotes
from hayate_strategies.market_making.params import MultiSymbolConfig, QuoteParams

__all__ = ["AvellanedaParams", "AvellanedaStoikov"]


class AvellanedaParams(QuoteParams):
    gamma: float = Field(
        gt=0, description="Inventory risk aversion γ, per unit of price (quote currency): larger "
                          "values move the reservation price harder against the inventory and "
                          "widen the spread.")
    kappa: float = Field(
        gt=0, description="Order book liquidity κ, per unit of price: how fast the chance of a "
                          "fill decays with distance from the mid (larger: denser book, tighter "
                          "quotes).")
    horizon: Duration = Field(
        60.0, gt=0, description="Time left to the horizon, T - t, in seconds. Held constant "
                                "(a rolling horizon), as a market that never closes needs.")
    sigma: float | None = Field(
        None, gt=0, description="Fixed volatility σ in price per √second. When unset, σ is "
                                "estimated from the sampled mid and quoting waits for the estimate.")
    volatility_window: int = Field(
        60, ge=2, description="Number of mid-price changes the σ estimate uses.")
    sample_interval: Duration = Field(
        1.0, gt=0, description="Seconds between mid-price samples for the σ estimate.")
    min_spread_bps: float = Field(0.0, ge=0, description="Narrowest total spread (bps of the mid).")
    max_spread_bps: float | None = Field(None, gt=0, description="Widest total spread (bps).")

    @model_validator(mode="after")
    def _bounds(self) -> AvellanedaParams:
        if self.max_spread_bps is not None and self.max_spread_bps < self.min_spread_bps:
            raise ValueError("max_spread_bps is below min_spread_bps")
        return self


class AvellanedaMMConfig(MultiSymbolConfig, AvellanedaParams):
    params_model: ClassVar[type[QuoteParams]] = AvellanedaParams


class _Volatility:
    """σ² per second from the changes of the mid sampled every ``sample_interval``."""

    __slots__ = ("last", "q", "sampler", "seconds", "var")

    def __init__(self, q: SymbolQuotes, p: AvellanedaParams) -> None:
        self.q = q
        self.var = RollingVariance(p.volatility_window)
        self.seconds = p.sample_interval
        self.sampler = BarSampler(int(p.sample_interval * NS), self.on_bar,
                                  max_gap_bars=p.volatility_window)
        self.last: float | None = None

    def on_bar(self, open_: float, high: float, low: float, close: float) -> None:
        if self.last is not None:
            self.var.update(close - self.last)
            self.q.dirty = True
        self.last = close

    def sigma2_units(self) -> float | None:
        v = self.var.value
        return None if v is None else v / self.seconds


class AvellanedaStoikov(LadderMarketMaker):
    """Avellaneda–Stoikov (2008) quotes around a reservation price.

    With ``s`` the mid, ``q`` the inventory in lots (position / level-0 ``order_qty``),
    ``σ`` the volatility (price per √s), ``τ`` = ``horizon``::

        reservation price  r = s - q γ σ² τ
        total spread       δ = γ σ² τ + (2 / γ) ln(1 + γ / κ)
        bid = r - δ/2,  ask = r + δ/2

    ``δ`` is then held within ``min_spread_bps`` .. ``max_spread_bps`` of the mid. Prices,
    γ, κ and σ are in the quote currency (e.g. USDT), so γ = 0.01 means "one lot of
    inventory moves the reservation price by 0.01 σ²τ". Further levels, sizes, position
    limit and the other quoting rules are those of ``mm.simple``.
    """

    kind: ClassVar[str] = "mm.avellaneda"
    Config: ClassVar[type[AvellanedaMMConfig]] = AvellanedaMMConfig
    observes_market: ClassVar[bool] = True

    def make_model(self, q: SymbolQuotes) -> _Volatility:
        return _Volatility(q, q.params)  # type: ignore[arg-type]

    def observe(self, q: SymbolQuotes, event: Event, book: OrderBook) -> None:
        t = type(event)
        if (t is BookDelta or t is BookSnapshot) and book.valid:
            m2 = book.mid2()
            if m2 is not None:
                q.model.sampler.update(event.recv_ts or event.ts, m2 / 2)

    def sigma(self, q: SymbolQuotes) -> float | None:
        """Volatility in price (quote currency) per √second: fixed or estimated."""
        p: AvellanedaParams = q.params  # type: ignore[assignment]
        if p.sigma is not None:
            return p.sigma
        s2 = q.model.sigma2_units()
        if s2 is None or q.inst is None:
            return None
        return math.sqrt(s2) * 10.0 ** -q.inst.price_decimals

    def quote_reference(self, q: SymbolQuotes, view: Any, book: OrderBook, position: Decimal
                        ) -> tuple[float, float, float] | None:
        p: AvellanedaParams = q.params  # type: ignore[assignment]
        sigma = self.sigma(q)
        if sigma is None or q.inst is None:
            return None  # warming up: no σ yet
        m2 = book.mid2()
        assert m2 is not None
        scale = 10.0 ** q.inst.price_decimals  # price units per unit of quote currency
        mid = m2 / 2 / scale
        lots = float(position) / float(p.level_qty(0))
        risk = p.gamma * sigma * sigma * p.horizon
        reservation = mid - lots * risk
        spread = risk + (2.0 / p.gamma) * math.log1p(p.gamma / p.kappa)
        spread = max(spread, mid * p.min_spread_bps / 1e4)
        if p.max_spread_bps is not None:
            spread = min(spread, mid * p.max_spread_bps / 1e4)
        half = spread / 2 * scale
        return reservation * scale, half, half

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out["sigma"] = {s: (None if (v := self.sigma(q)) is None else round(v, 8))
                        for s, q in self.quotes.items()}
        return out
