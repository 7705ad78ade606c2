"""Hayate actions -> Bybit v5 order request bodies (REST body = trade-socket ``args``).

Every order carries its ``client_id`` as ``orderLinkId``, so a retry can never make a
second order: Bybit refuses a repeated ``orderLinkId`` (110072, spot 170141). Hayate
trades one-way mode (``positionIdx`` 0, Bybit's default), and its quantities are in the
base coin, so a spot market buy says ``marketUnit = baseCoin`` (Bybit's default for it is
the quote coin).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hayate.actions import AmendOrder, CancelOrder, OrderType, PlaceOrder

__all__ = [
    "BATCH_LIMIT",
    "amend_item",
    "batch_body",
    "cancel_item",
    "create_item",
    "decimal_text",
]

BATCH_LIMIT = {"spot": 10, "linear": 20, "inverse": 20, "option": 20}
"""Most orders in one batch request, per category."""


def decimal_text(d: Decimal) -> str:
    """Plain notation Bybit accepts (never ``1E+1``)."""
    return format(d, "f")


def create_item(a: PlaceOrder, category: str) -> dict[str, Any]:
    # Side, OrderType and TimeInForce are StrEnums: they encode as Bybit's words.
    item: dict[str, Any] = {
        "symbol": a.symbol,
        "side": a.side,
        "orderType": a.order_type,
        "qty": format(a.qty, "f"),
        "orderLinkId": a.client_id,
    }
    if a.order_type is OrderType.LIMIT:
        assert a.price is not None
        item["price"] = format(a.price, "f")
        item["timeInForce"] = a.time_in_force
    elif category == "spot":
        item["marketUnit"] = "baseCoin"
    if a.reduce_only:
        item["reduceOnly"] = True
    return item


def cancel_item(a: CancelOrder) -> dict[str, Any]:
    return {"symbol": a.symbol, "orderLinkId": a.client_id}


def amend_item(a: AmendOrder) -> dict[str, Any]:
    item: dict[str, Any] = {"symbol": a.symbol, "orderLinkId": a.client_id}
    if a.qty is not None:
        item["qty"] = decimal_text(a.qty)
    if a.price is not None:
        item["price"] = decimal_text(a.price)
    return item


def single_body(item: dict[str, Any], category: str) -> dict[str, Any]:
    return {"category": category, **item}


def batch_body(items: Sequence[dict[str, Any]], category: str) -> dict[str, Any]:
    return {"category": category, "request": list(items)}
