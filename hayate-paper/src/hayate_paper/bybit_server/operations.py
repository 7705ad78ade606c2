"""Order operations shared by REST (``POST /v5/order/...``) and the trade socket
(``order.create`` ...): one implementation, two transports, as on Bybit (the trade
socket's ``data`` is what REST returns as ``result``; batch items report per item)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hayate_paper.bybit_server.accounts import ExchangeAccount
from hayate_paper.bybit_server.wire import now_ms

__all__ = ["ORDER_OPS", "OrderOp"]

OrderOp = Callable[[ExchangeAccount, dict[str, Any]], tuple[dict[str, Any], dict[str, Any] | None]]


def _created(cat: str, item: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    return {"category": cat, "symbol": item.get("symbol") or "", "orderId": out["orderId"],
            "orderLinkId": out["orderLinkId"], "createAt": str(now_ms()) if out["orderId"] else ""}


def _changed(cat: str, item: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    return {"category": cat, "symbol": item.get("symbol") or "", "orderId": out["orderId"],
            "orderLinkId": out["orderLinkId"]}


ORDER_OPS: dict[str, tuple[str, OrderOp]] = {
    # trade-socket op -> (REST path, implementation)
    "order.create": ("/v5/order/create", lambda a, p: (a.create(p), None)),
    "order.amend": ("/v5/order/amend", lambda a, p: (a.amend(p), None)),
    "order.cancel": ("/v5/order/cancel", lambda a, p: (a.cancel(p), None)),
    "order.cancel-all": ("/v5/order/cancel-all", lambda a, p: (a.cancel_all(p), None)),
    "order.create-batch": ("/v5/order/create-batch", lambda a, p: a.batch(a.create, p, _created)),
    "order.amend-batch": ("/v5/order/amend-batch", lambda a, p: a.batch(a.amend, p, _changed)),
    "order.cancel-batch": ("/v5/order/cancel-batch", lambda a, p: a.batch(a.cancel, p, _changed)),
}
