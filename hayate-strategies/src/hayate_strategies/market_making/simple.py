"""``mm.simple``: quote both sides at a fixed spread around the mid, leaning on inventory."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from hayate.book.book import OrderBook
from hayate_strategies.market_making.base import LadderMarketMaker, SymbolQuotes
from hayate_strategies.market_making.params import MultiSymbolConfig, QuoteParams

__all__ = ["SimpleMarketMaker", "SimpleParams"]


class SimpleParams(QuoteParams):
    spread_bps: float = Field(
        description="Distance from the best bid quote to the best ask quote, in bps of the mid "
                    "(each side sits half of it away from the reference price).", ge=0)
    skew_bps_per_unit: float = Field(
        0.0, ge=0,
        description="Inventory skew: both quotes move against the position by this many bps "
                    "of the mid per unit of position (base quantity), so a long position sells "
                    "cheaper and buys lower.")


class SimpleMMConfig(MultiSymbolConfig, SimpleParams):
    params_model: ClassVar[type[QuoteParams]] = SimpleParams


class SimpleMarketMaker(LadderMarketMaker):
    """Fixed-spread market maker: both sides around the mid, skewed by inventory.

    The reference price is ``mid * (1 - skew_bps_per_unit * position / 10_000)``; the
    level-0 bid and ask sit ``spread_bps / 2`` below and above it, further levels
    ``level_spacing_bps`` apart. See :mod:`hayate_strategies.market_making.base` for the
    quoting rules every ``mm.*`` strategy shares.
    """

    kind: ClassVar[str] = "mm.simple"
    Config: ClassVar[type[SimpleMMConfig]] = SimpleMMConfig

    def quote_reference(self, q: SymbolQuotes, view: Any, book: OrderBook, position: Decimal
                        ) -> tuple[float, float, float] | None:
        p: SimpleParams = q.params  # type: ignore[assignment]
        m2 = book.mid2()
        assert m2 is not None
        mid = m2 / 2
        centre = mid
        if p.skew_bps_per_unit and position:
            centre = mid * (1.0 - p.skew_bps_per_unit * float(position) / 1e4)
        half = mid * p.spread_bps / 2e4
        return centre, half, half
