"""The ``[risk]`` table of a bot spec: limits the engine enforces on every strategy.

Limits are optional; an absent one is not checked. Amounts are exact decimals written as
strings (``max_position = "0.5"``). Per-symbol limits may be overridden::

    [risk]
    max_position = "0.1"          # every symbol
    max_loss = "250"
    on_loss = "halt"

    [risk.symbols.ETHUSDT]
    max_position = "2"
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hayate.spec.models import Duration

__all__ = ["BreakerAction", "RiskConfig", "SymbolLimits"]

BreakerAction = Literal["halt", "stop", "reduce_only", "flatten"]
"""What a tripped breaker does: ``halt`` cancels every order and blocks new ones,
``stop`` does the same and stops the bot, ``reduce_only`` cancels every order and then
lets through only orders that shrink a position."""


def _decimal(value: Any) -> Any:
    if isinstance(value, float | bool):
        raise ValueError(f"write amounts as decimal strings, e.g. \"{value}\" (floats are not exact)")
    if isinstance(value, str | int):
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    if isinstance(value, Decimal) and (not value.is_finite() or value <= 0):
        raise ValueError("must be a positive, finite amount")
    return value


Amount = Annotated[Decimal, BeforeValidator(_decimal)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class SymbolLimits(_Strict):
    max_position: Amount | None = Field(
        None, description="Largest absolute position (base quantity, or contracts).")
    max_notional: Amount | None = Field(
        None, description="Largest absolute position value, in the quote currency.")
    max_open_orders: int | None = Field(None, ge=1, description="Open orders for this symbol.")


class RiskConfig(_Strict):
    """Core's pre-trade risk engine (see docs/risk.md). Applies to every strategy."""

    max_position: Amount | None = Field(
        None, description="Largest absolute position per symbol, counting every open order on "
                          "the same side as filled (base quantity, or contracts).")
    max_notional: Amount | None = Field(
        None, description="Largest absolute position value per symbol (quote currency), counted "
                          "like max_position at the order's price (market orders: the mark).")
    max_open_orders: int | None = Field(None, ge=1, description="Open orders, all symbols together.")
    max_order_rate: int | None = Field(
        None, ge=1, description="New orders and amendments per second, all symbols together.")
    max_loss: Amount | None = Field(
        None, description="Breaker: P&L (realized - fees + unrealized) below -max_loss in this run.")
    max_drawdown: Amount | None = Field(
        None, description="Breaker: P&L this far below its highest point in this run.")
    max_daily_loss: Amount | None = Field(
        None, description="Breaker: loss since the start of the UTC day (resets at midnight UTC).")
    max_daily_drawdown: Amount | None = Field(
        None, description="Breaker: drawdown from the day's highest P&L (resets at midnight UTC).")
    on_loss: BreakerAction = Field(
        "halt", description="What the loss and drawdown breakers do: halt, stop, reduce_only, "
        "or flatten (halt, cancel every order, then close every position with reduce-only "
        "market orders).")
    stale_after: Duration | None = Field(
        None, gt=0, description="No market data for a symbol for this long: cancel its orders and "
                          "block new ones until data flows again (seconds or '5s').")
    max_reject_rate: float | None = Field(
        None, gt=0, le=1, description="Breaker: share of rejected orders among the last "
                                      "reject_window orders the venue answered.")
    reject_window: int = Field(20, ge=1, description="Orders the reject rate is measured over.")
    on_reject_rate: BreakerAction = Field("halt", description="What the reject-rate breaker does.")
    check_interval: Duration = Field(
        0.1, gt=0, description="How often P&L and stale data are re-evaluated (also after every "
                               "fill).")
    symbols: dict[str, SymbolLimits] = Field(
        default_factory=dict, description="Per-symbol overrides of max_position, max_notional "
                                          "and max_open_orders.")

    @property
    def has_limits(self) -> bool:
        """Whether any limit or breaker is set (else the engine only serves the kill switch)."""
        fields = ("max_position", "max_notional", "max_open_orders", "max_order_rate", "max_loss",
                  "max_drawdown", "max_daily_loss", "max_daily_drawdown", "stale_after",
                  "max_reject_rate")
        return any(getattr(self, f) is not None for f in fields) or bool(self.symbols)

    def limits_for(self, symbol: str) -> SymbolLimits:
        over = self.symbols.get(symbol)
        base = SymbolLimits(max_position=self.max_position, max_notional=self.max_notional)
        if over is None:
            return base
        return SymbolLimits(
            max_position=over.max_position if over.max_position is not None else base.max_position,
            max_notional=over.max_notional if over.max_notional is not None else base.max_notional,
            max_open_orders=over.max_open_orders,
        )
