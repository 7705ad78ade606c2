"""Orders, executions, positions and wallets as Bybit writes them (REST and WebSocket).

The same concept is written differently in different places, and clients depend on it:
REST ``position/list`` calls the entry price ``avgPrice``, the ``position`` stream calls it
``entryPrice``; times are millisecond *strings* inside records; sizes keep the instrument's
decimals on linear and are stripped on spot; ``""`` stands for "not applicable". Field
sets follow the samples in the protocol notes (``rest_order_realtime.json``,
``ws_private_order.json``, ``ws_private_execution.json``, ``rest_position_list.json``,
``ws_private_position.json``, ``rest_wallet_balance.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hayate.instruments import Instrument
from hayate_paper.bybit_server.wire import fmt, money, price_text

__all__ = [
    "CoinFigures",
    "ExecRecord",
    "OrderRecord",
    "PositionFigures",
    "execution_item",
    "fast_execution_item",
    "order_item",
    "position_item",
    "reason_fields",
    "wallet_item",
]

_ZERO = Decimal(0)

# Paper reasons -> (cancelType, rejectReason) as Bybit reports them.
_REASONS: dict[str, tuple[str, str]] = {
    "": ("UNKNOWN", "EC_NoError"),
    "EC_PerCancelRequest": ("CancelByUser", "EC_PerCancelRequest"),
    "EC_PostOnlyWillTakeLiquidity": ("UNKNOWN", "EC_PostOnlyWillTakeLiquidity"),
    "EC_NoImmediateQtyToFill": ("UNKNOWN", "EC_NoImmediateQtyToFill"),
    "EC_CancelForNoFullFill": ("UNKNOWN", "EC_CancelForNoFullFill"),
    "EC_NoEnoughQtyToFill": ("UNKNOWN", "EC_NoEnoughQtyToFill"),
    "CancelByReduceOnly": ("CancelByReduceOnly", "EC_NoError"),
}


def reason_fields(reason: str) -> tuple[str, str]:
    return _REASONS.get(reason, ("UNKNOWN", reason or "EC_NoError"))


@dataclass(slots=True)
class OrderRecord:
    """One order as the venue reports it; updated from the paper exchange's events."""

    category: str
    symbol: str
    order_id: str
    link_id: str
    side: str
    order_type: str
    tif: str
    price: Decimal | None
    qty: Decimal
    created_ms: int
    reduce_only: bool = False
    status: str = "New"
    cum_qty: Decimal = _ZERO
    cum_value: Decimal = _ZERO
    cum_fee: Decimal = _ZERO
    fee_detail: dict[str, Decimal] = field(default_factory=dict)
    avg_price: Decimal | None = None
    updated_ms: int = 0
    cancel_type: str = "UNKNOWN"
    reject_reason: str = "EC_NoError"
    closed_pnl: Decimal = _ZERO
    market_unit: str = ""
    last_price_on_created: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in ("New", "PartiallyFilled")

    @property
    def leaves(self) -> Decimal:
        if not self.is_open:
            return _ZERO
        left = self.qty - self.cum_qty
        return left if left > 0 else _ZERO


def _q(value: Decimal | None, inst: Instrument) -> str:
    return price_text(value, inst.qty_decimals, inst.category == "spot")


def _p(value: Decimal | None, inst: Instrument) -> str:
    return price_text(value, inst.price_decimals, inst.category == "spot")


def order_item(o: OrderRecord, inst: Instrument, *, ws: bool) -> dict[str, Any]:
    """``order/realtime`` / ``order/history`` item (``ws=False``) or ``order`` push item."""
    spot = inst.category == "spot"
    leaves = o.leaves
    price = o.price if o.price is not None else _ZERO
    if o.avg_price is not None:
        avg = _p(o.avg_price, inst)
    else:
        avg = "" if (ws or spot) else "0"
    fee_detail = {k: fmt(v) for k, v in o.fee_detail.items()}
    item: dict[str, Any] = {
        "category": o.category,
        "orderId": o.order_id,
        "orderLinkId": o.link_id,
        "parentOrderLinkId": "",
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": _p(price, inst),
        "qty": _q(o.qty, inst),
        "side": o.side,
        "isLeverage": "0" if spot else "",
        "positionIdx": 0,
        "orderStatus": o.status,
        "cancelType": o.cancel_type,
        "rejectReason": o.reject_reason,
        "avgPrice": avg,
        "leavesQty": _q(leaves, inst),
        "leavesValue": money(leaves * price),
        "cumExecQty": _q(o.cum_qty, inst),
        "cumExecValue": money(o.cum_value),
        "cumExecFee": fmt(o.cum_fee),
        "timeInForce": o.tif,
        "orderType": o.order_type,
        "stopOrderType": "" if ws else "UNKNOWN",
        "orderIv": "",
        "marketUnit": o.market_unit,
        "triggerPrice": "0" if spot else _p(_ZERO, inst),
        "takeProfit": "0" if spot else _p(_ZERO, inst),
        "stopLoss": "0" if spot else _p(_ZERO, inst),
        "tpTriggerBy": "" if ws else "UNKNOWN",
        "slTriggerBy": "" if ws else "UNKNOWN",
        "triggerDirection": 0,
        "triggerBy": "" if ws else "UNKNOWN",
        "lastPriceOnCreated": o.last_price_on_created,
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": False,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "placeType": "",
        "slippageToleranceType": "UNKNOWN",
        "slippageTolerance": "",
        "createdTime": str(o.created_ms),
        "updatedTime": str(o.updated_ms or o.created_ms),
        "extraFees": "",
        "cumFeeDetail": fee_detail,
        "rpiTakerAccess": False,
        "rpiMatchedQty": "0",
    }
    if ws:
        item["closedPnl"] = money(o.closed_pnl)
        item["feeCurrency"] = ""
        item["brokerOrderPrice"] = ""
        if not spot:
            item["createType"] = "CreateByUser"
    elif spot:
        item["basePrice"] = ""
    return item


@dataclass(slots=True)
class ExecRecord:
    category: str
    symbol: str
    exec_id: str
    order_id: str
    link_id: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_rate: Decimal
    fee_currency: str
    is_maker: bool
    leaves: Decimal
    order_price: Decimal | None
    order_qty: Decimal
    order_type: str
    mark_price: Decimal | None
    closed_size: Decimal
    pnl: Decimal
    t_ms: int
    seq: int
    market_unit: str = ""


def execution_item(e: ExecRecord, inst: Instrument, *, ws: bool) -> dict[str, Any]:
    spot = inst.category == "spot"
    item: dict[str, Any] = {
        "category": e.category,
        "symbol": e.symbol,
        "closedSize": "" if spot else _q(e.closed_size, inst),
        "execFee": fmt(e.fee),
        "execId": e.exec_id,
        "execPrice": _p(e.price, inst),
        "execQty": _q(e.qty, inst),
        "execType": "Trade",
        "execValue": money(e.price * e.qty * inst.contract_multiplier),
        "feeRate": fmt(e.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "blockTradeId": "",
        "markPrice": _p(e.mark_price, inst) if e.mark_price is not None else "",
        "indexPrice": "",
        "underlyingPrice": "",
        "leavesQty": _q(e.leaves, inst),
        "orderId": e.order_id,
        "orderLinkId": e.link_id,
        "orderPrice": _p(e.order_price if e.order_price is not None else _ZERO, inst),
        "orderQty": _q(e.order_qty, inst),
        "orderType": e.order_type,
        "stopOrderType": "UNKNOWN",
        "side": e.side,
        "execTime": str(e.t_ms),
        "isLeverage": "0" if spot else "",
        "isMaker": e.is_maker,
        "seq": e.seq,
        "marketUnit": e.market_unit,
        "execPnl": "" if spot else money(e.pnl),
        "createType": "" if spot else "CreateByUser",
        "extraFees": "",
        "feeCurrency": e.fee_currency,
    }
    if not ws:
        item["execFeeV2"] = ""
    return item


def fast_execution_item(e: ExecRecord, inst: Instrument) -> dict[str, Any]:
    """``execution.fast``: the reduced field set."""
    return {
        "category": e.category, "symbol": e.symbol, "execId": e.exec_id,
        "execPrice": _p(e.price, inst), "execQty": _q(e.qty, inst), "orderId": e.order_id,
        "isMaker": e.is_maker, "orderLinkId": e.link_id, "side": e.side,
        "execTime": str(e.t_ms), "seq": e.seq,
    }


@dataclass(slots=True)
class PositionFigures:
    """What a position record needs, gathered by the account (all exact)."""

    size: Decimal  # signed
    avg_price: Decimal | None
    mark: Decimal | None
    leverage: Decimal
    realized: Decimal  # cumulative, net of fees
    session_realized: Decimal
    unrealized: Decimal
    created_ms: int
    updated_ms: int
    seq: int


def position_item(symbol: str, inst: Instrument, f: PositionFigures, *, ws: bool) -> dict[str, Any]:
    size = abs(f.size)
    side = "" if not f.size else ("Buy" if f.size > 0 else "Sell")
    avg = f.avg_price if f.avg_price is not None and f.size else _ZERO
    value = size * avg * inst.contract_multiplier
    im = value / f.leverage if f.leverage else _ZERO
    mm = value * Decimal("0.005")
    entry = _p(avg, inst) if f.size else "0"
    entry_key = "entryPrice" if ws else "avgPrice"  # the same value, named differently
    item: dict[str, Any] = {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": symbol,
        "side": side,
        "size": _q(size, inst),
        entry_key: entry,
        "positionValue": money(value),
        "tradeMode": 0,
        "positionStatus": "Normal",
        "autoAddMargin": 0,
        "adlRankIndicator": 0 if not f.size else 2,
        "leverage": fmt(f.leverage),
        "breakEvenPrice": entry,
        "positionBalance": money(im),
        "markPrice": _p(f.mark, inst) if f.mark is not None else "",
        "liqPrice": "",
        "bustPrice": "",
        "positionMM": money(mm),
        "positionMMByMp": money(mm),
        "positionIM": money(im),
        "positionIMByMp": money(im),
        "tpslMode": "Full",
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "unrealisedPnl": money(f.unrealized),
        "curRealisedPnl": money(f.session_realized),
        "cumRealisedPnl": money(f.realized),
        "seq": f.seq,
        "isReduceOnly": False,
        "mmrSysUpdatedTime" if ws else "mmrSysUpdateTime": "",  # REST spells it so
        "leverageSysUpdatedTime": "",
        "sessionAvgPrice": "",
        "createdTime": str(f.created_ms),
        "updatedTime": str(f.updated_ms),
    }
    if ws:
        item["category"] = inst.category
    return item


@dataclass(slots=True)
class CoinFigures:
    coin: str
    wallet: Decimal
    equity: Decimal
    price: Decimal  # value of one unit in USD(T); 0 when unknown
    locked: Decimal
    order_im: Decimal
    position_im: Decimal
    position_mm: Decimal
    unrealized: Decimal
    realized: Decimal
    available: Decimal


def wallet_item(coins: list[CoinFigures], *, perp_upl: Decimal, total_im: Decimal,
                total_mm: Decimal) -> dict[str, Any]:
    """One ``wallet-balance`` list item / ``wallet`` push item (a unified account)."""
    wallet_usd = sum((c.wallet * c.price for c in coins), _ZERO)
    equity = sum((c.equity * c.price for c in coins), _ZERO)
    margin_balance = wallet_usd + perp_upl
    available = margin_balance - total_im
    if available < 0:
        available = _ZERO
    im_rate = (total_im / margin_balance).quantize(Decimal("0.0001")) if margin_balance > 0 else _ZERO
    mm_rate = (total_mm / margin_balance).quantize(Decimal("0.0001")) if margin_balance > 0 else _ZERO
    return {
        "totalEquity": money(equity),
        "accountIMRate": fmt(im_rate),
        "accountIMRateByMp": fmt(im_rate),
        "totalMarginBalance": money(margin_balance),
        "totalInitialMargin": money(total_im),
        "totalInitialMarginByMp": money(total_im),
        "accountType": "UNIFIED",
        "totalAvailableBalance": money(available),
        "accountMMRate": fmt(mm_rate),
        "accountMMRateByMp": fmt(mm_rate),
        "totalPerpUPL": money(perp_upl),
        "totalWalletBalance": money(wallet_usd),
        "accountLTV": "0",
        "totalMaintenanceMargin": money(total_mm),
        "totalMaintenanceMarginByMp": money(total_mm),
        "coin": [
            {
                "availableToBorrow": "",
                "bonus": "0",
                "accruedInterest": "0",
                "availableToWithdraw": money(c.available),
                "totalOrderIM": money(c.order_im),
                "equity": money(c.equity),
                "totalPositionMM": money(c.position_mm),
                "usdValue": money(c.equity * c.price),
                "spotHedgingQty": "0",
                "unrealisedPnl": money(c.unrealized),
                "collateralSwitch": True,
                "borrowAmount": "0",
                "totalPositionIM": money(c.position_im),
                "walletBalance": money(c.wallet),
                "cumRealisedPnl": money(c.realized),
                "locked": money(c.locked),
                "marginCollateral": True,
                "coin": c.coin,
                "spotBorrow": "0",
            }
            for c in coins
        ],
    }
