"""``instruments-info`` items: the source's own (live or recorded Bybit data) when it has
them, else written from the :class:`~hayate.instruments.Instrument` in Bybit's shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hayate.instruments import Instrument
from hayate_paper.bybit_server.market import SymbolMarket
from hayate_paper.bybit_server.wire import fixed, fmt

__all__ = ["instrument_item"]

_LAUNCH = "1585526400000"


def _risk() -> dict[str, str]:
    return {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.1"}


def instrument_item(sm: SymbolMarket, symbol_id: int = 1) -> dict[str, Any]:
    if sm.raw_info is not None:
        return sm.raw_info
    inst: Instrument = sm.inst
    pd, qd = inst.price_decimals, inst.qty_decimals
    tick = fixed(inst.tick_size, pd)
    max_qty = inst.max_qty if inst.max_qty else Decimal(1_000_000)
    if inst.category == "spot":
        return {
            "symbolId": symbol_id,
            "symbol": inst.symbol,
            "baseCoin": sm.base,
            "quoteCoin": sm.quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "none",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": fixed(inst.qty_step, qd),
                "quotePrecision": "0.00000001",
                "minOrderQty": fmt(inst.min_qty or inst.qty_step),
                "maxOrderQty": fmt(max_qty),
                "minOrderAmt": fmt(inst.min_notional),
                "maxOrderAmt": "8000000",
                "maxLimitOrderQty": fmt(max_qty),
                "maxMarketOrderQty": fmt(max_qty / 2),
                "postOnlyMaxLimitOrderSize": fmt(max_qty),
            },
            "priceFilter": {"tickSize": fmt(inst.tick_size)},
            "riskParameters": _risk(),
            "symbolType": "",
        }
    return {
        "symbol": inst.symbol,
        "symbolId": symbol_id,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": sm.base,
        "quoteCoin": sm.quote,
        "launchTime": _LAUNCH,
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(pd),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {
            "minPrice": tick,
            "maxPrice": fixed(inst.tick_size * 19_999_999, pd),
            "tickSize": tick,
        },
        "lotSizeFilter": {
            "maxOrderQty": fixed(max_qty, qd),
            "minOrderQty": fixed(inst.min_qty or inst.qty_step, qd),
            "qtyStep": fixed(inst.qty_step, qd),
            "postOnlyMaxOrderQty": fixed(max_qty, qd),
            "maxMktOrderQty": fixed(max_qty / 2, qd),
            "minNotionalValue": fmt(inst.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": sm.settle,
        "copyTrading": "none",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
        "isPreListing": False,
        "preListingInfo": None,
        "riskParameters": _risk(),
        "symbolType": "",
    }
