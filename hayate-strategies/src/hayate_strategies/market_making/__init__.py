"""Market makers: ``mm.simple``, ``mm.dynamic`` and ``mm.avellaneda`` share one quoting
engine (:mod:`.base`) and differ only in where they put their quotes."""

from hayate_strategies.market_making.avellaneda import AvellanedaStoikov
from hayate_strategies.market_making.base import LadderMarketMaker, SymbolQuotes
from hayate_strategies.market_making.dynamic import DynamicMarketMaker
from hayate_strategies.market_making.params import DecimalStr, MultiSymbolConfig, QuoteParams
from hayate_strategies.market_making.simple import SimpleMarketMaker

__all__ = [
    "AvellanedaStoikov",
    "DecimalStr",
    "DynamicMarketMaker",
    "LadderMarketMaker",
    "MultiSymbolConfig",
    "QuoteParams",
    "SimpleMarketMaker",
    "SymbolQuotes",
]
