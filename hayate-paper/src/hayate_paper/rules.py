"""Venue rules the paper exchange is configured with: outcome statuses and reason texts.

The matching engine is venue-neutral; what differs between venues is how outcomes are
*reported*. These are data, with Bybit's v5 behaviour as the default, so the bot sees the
same statuses and reasons it will see live (e.g. a PostOnly order that would cross ends
``Cancelled`` with ``EC_PostOnlyWillTakeLiquidity``; a partially filled order that is
cancelled ends ``Cancelled`` on derivatives and ``PartiallyFilledCanceled`` on spot).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hayate.events import OrderStatus

__all__ = ["VenueRules"]


class VenueRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    venue: str = Field("paper", description="Value of the 'venue' field of private events.")
    partially_filled_cancelled: dict[str, OrderStatus] = Field(
        default_factory=lambda: {
            "spot": OrderStatus.PARTIALLY_FILLED_CANCELLED,
            "linear": OrderStatus.CANCELLED,
            "inverse": OrderStatus.CANCELLED,
            "option": OrderStatus.CANCELLED,
        },
        description="Final status of a partially filled order that is then cancelled, per category.",
    )
    post_only_would_take: str = "EC_PostOnlyWillTakeLiquidity"
    ioc_remainder: str = "EC_NoImmediateQtyToFill"
    fok_not_filled: str = "EC_CancelForNoFullFill"
    market_no_liquidity: str = "EC_NoEnoughQtyToFill"
    user_cancel: str = "EC_PerCancelRequest"
    reduce_only_cancel: str = "CancelByReduceOnly"
    reduce_only_reject: str = "110017: reduce-only rule not satisfied"
    insufficient_balance: str = "110007: insufficient available balance"
    invalid_order: str = Field("10001: {detail}", description="Format; {detail} says which rule.")
    unknown_symbol: str = "10001: unknown symbol {symbol}"
    unsupported: str = Field("10001: {detail}", description="Format for unsupported requests.")
    duplicate_client_id: str = "110072: OrderLinkedID is duplicate"
    too_many_orders: str = "110020: too many active orders"
    max_open_orders: int = Field(500, ge=1, description="Open orders per symbol (Bybit: 500).")

    def cancelled_status(self, category: str, filled: bool) -> OrderStatus:
        if not filled:
            return OrderStatus.CANCELLED
        return self.partially_filled_cancelled.get(category, OrderStatus.CANCELLED)
