"""``GET /v5/market/instruments-info``: the trading rules of each symbol."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from hayate.exceptions import ProtocolError
from hayate.instruments import Instrument
from hayate.numbers import Sign, check_id, parse_decimal

__all__ = ["InstrumentInfo", "RestResponse", "instrument_from_info"]


class RestResponse(msgspec.Struct):
    """Bybit's REST envelope; ``result`` is decoded per endpoint once ``retCode`` is 0."""

    retCode: int
    retMsg: str = ""
    result: msgspec.Raw = msgspec.Raw(b"{}")
    time: int = 0


class PriceFilter(msgspec.Struct):
    tickSize: str
    minPrice: str = ""
    maxPrice: str = ""


class LotSizeFilter(msgspec.Struct):
    qtyStep: str = ""  # linear, inverse, option
    basePrecision: str = ""  # spot: the size step
    minOrderQty: str = ""
    maxOrderQty: str = ""
    maxLimitOrderQty: str = ""  # spot
    minNotionalValue: str = ""  # linear
    minOrderAmt: str = ""  # spot: the minimum the exchange checks (notional)


class InstrumentInfo(msgspec.Struct):
    symbol: str
    priceFilter: PriceFilter
    lotSizeFilter: LotSizeFilter
    status: str = ""
    contractType: str = ""
    baseCoin: str = ""
    quoteCoin: str = ""
    settleCoin: str = ""


class InstrumentsPage(msgspec.Struct):
    items: list[dict[str, Any]] = msgspec.field(name="list")
    category: str = ""
    nextPageCursor: str | None = None


def _dec(text: str, what: str, sign: Sign = "non_negative") -> Decimal:
    """A rule's value, strictly (:func:`hayate.numbers.parse_decimal`); ``""`` is 0."""
    if not text:
        return Decimal(0)
    return parse_decimal(text, sign=sign, what=what)


def instrument_from_info(raw: dict[str, Any], category: str) -> Instrument:
    """One ``result.list`` item (as received) -> an :class:`Instrument`.

    Spot sizes step by ``basePrecision`` and the exchange checks the notional
    (``minOrderAmt``); derivatives step by ``qtyStep`` with ``minOrderQty`` and, for linear,
    ``minNotionalValue``. An item that does not fit (a missing rule, a number that is not a
    plain positive decimal) raises :class:`~hayate.exceptions.ProtocolError` naming it.
    """
    symbol = raw.get("symbol") if isinstance(raw, dict) else None
    try:
        info = msgspec.convert(raw, InstrumentInfo)
        lot = info.lotSizeFilter
        spot = category == "spot"
        step = lot.basePrecision if spot and lot.basePrecision else lot.qtyStep
        if not step:
            raise ValueError("no size step in lotSizeFilter")
        check_id(info.symbol, "symbol")
        return Instrument(
            symbol=info.symbol,
            category=category,  # type: ignore[arg-type]
            venue="bybit",
            tick_size=_dec(info.priceFilter.tickSize, "tickSize", "positive"),
            qty_step=_dec(step, "qtyStep", "positive"),
            min_qty=_dec("" if spot else lot.minOrderQty, "minOrderQty"),
            max_qty=_dec(lot.maxLimitOrderQty if spot else lot.maxOrderQty, "maxOrderQty"),
            min_notional=_dec(lot.minOrderAmt if spot else lot.minNotionalValue, "minNotional"),
            base=info.baseCoin,
            quote=info.quoteCoin,
            settle=info.settleCoin or (info.quoteCoin if category != "inverse" else info.baseCoin),
        )
    except (msgspec.ValidationError, ValueError) as e:  # InvalidNumber is a ValueError
        raise ProtocolError(f"instruments-info of {str(symbol)[:40]!r}: {e}") from None
