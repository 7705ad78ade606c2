"""Trading fees: maker and taker rates per instrument category.

The defaults are Bybit's standard (non-VIP) rates: linear perpetuals 0.02 % maker and
0.055 % taker, spot 0.1 % both. A negative rate is a rebate. Fees are exact ``Decimal``
amounts quantized to ``fee_decimals`` places (Bybit reports fees to 8 decimals), rounded
half-even so that a run is reproducible to the last digit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FeeRates", "FeeSchedule"]


class FeeRates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    maker: Decimal = Field(
        gt=-1, lt=1,
        description="Fee rate for fills that provided liquidity (0.0002 = 0.02 %; negative: a "
        "rebate).")
    taker: Decimal = Field(gt=-1, lt=1, description="Fee rate for fills that took liquidity.")


class FeeSchedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    linear: FeeRates = Field(
        FeeRates(maker=Decimal("0.0002"), taker=Decimal("0.00055")),
        description="USDT-margined perpetuals and futures (Bybit standard: 0.02 % / 0.055 %).",
    )
    spot: FeeRates = Field(
        FeeRates(maker=Decimal("0.001"), taker=Decimal("0.001")),
        description="Spot (Bybit standard: 0.1 % / 0.1 %).",
    )
    symbols: dict[str, FeeRates] = Field(
        default_factory=dict, description="Per-symbol overrides (e.g. a zero-fee promotion)."
    )
    spot_fee_asset: Literal["received", "quote"] = Field(
        "received",
        description="Spot fee currency: 'received' charges a buy in the base coin and a sell "
        "in the quote coin (Bybit's rule); 'quote' charges both in the quote coin.",
    )
    fee_decimals: int = Field(8, ge=0, le=18, description="Decimal places fees are rounded to.")

    def rates(self, symbol: str, category: str) -> FeeRates:
        r = self.symbols.get(symbol)
        if r is not None:
            return r
        return self.spot if category == "spot" else self.linear

    def quantum(self) -> Decimal:
        return _quantum(self.fee_decimals)

    def fee(self, amount: Decimal, rate: Decimal) -> Decimal:
        """``amount * rate`` rounded to the fee precision (amount in the fee's currency)."""
        return (amount * rate).quantize(_quantum(self.fee_decimals), rounding=ROUND_HALF_EVEN)


@lru_cache(maxsize=32)
def _quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)
