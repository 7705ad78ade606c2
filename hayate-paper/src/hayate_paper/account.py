"""The simulated account: wallet balances, positions, fees, margin and spot funds.

Two kinds of instrument share one account, as in Bybit's unified account:

- **linear** (USDT-margined perpetuals/futures): the position is kept by
  :class:`hayate.orders.Position` (the same code the live account state uses); the wallet
  balance of the settle coin moves by realized P&L minus fees. The available balance is
  ``wallet + unrealized P&L - position initial margin - order initial margin``, the initial
  margin being notional / leverage; an order is rejected when its extra margin (plus the
  taker fee it may pay) exceeds the available balance.
- **spot**: balances per coin; an open buy locks its quote amount (price x qty), an open
  sell locks its base amount, and an order is rejected when the unlocked balance does not
  cover it. A :class:`Position` is still kept per symbol (from fills) so that P&L is
  reported the same way for both kinds.

Everything here is ``Decimal``. Fees are reported in the asset they are charged in; the
trading figures (``fees``, P&L) are in the quote/settle currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from hayate.events import Liquidity, Side
from hayate.instruments import Instrument
from hayate.orders import Position
from hayate_paper.fees import FeeSchedule

__all__ = ["Account", "FillCharge", "assets_of"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_QUOTES = ("USDT", "USDC", "USD", "BTC", "ETH", "EUR")


def assets_of(inst: Instrument, default_settle: str) -> tuple[str, str, str]:
    """(base, quote, settle) of an instrument, guessing from the symbol when not given."""
    base, quote = inst.base, inst.quote
    if not quote:
        for q in _QUOTES:
            if inst.symbol.endswith(q) and len(inst.symbol) > len(q):
                quote = q
                break
        else:
            quote = default_settle
    if not base:
        base = inst.symbol[: -len(quote)] if inst.symbol.endswith(quote) else inst.symbol
    settle = inst.settle or (quote if inst.category != "inverse" else base)
    return base, quote, settle


@dataclass(slots=True)
class FillCharge:
    """What one fill did to the account."""

    fee: Decimal  # in fee_asset
    fee_asset: str
    fee_quote: Decimal  # the same fee in the quote/settle currency
    realized: Decimal  # P&L realized by this fill, before fees


class Account:
    """Balances and positions of one simulated account."""

    def __init__(
        self,
        balances: Mapping[str, Decimal],
        fees: FeeSchedule,
        leverage: Decimal,
        leverage_by_symbol: Mapping[str, Decimal] | None = None,
        settle_asset: str = "USDT",
    ) -> None:
        self.wallet: dict[str, Decimal] = {k: Decimal(v) for k, v in balances.items()}
        self.locked: dict[str, Decimal] = {}
        self.positions: dict[str, Position] = {}
        self.fees = fees
        self.leverage = leverage
        self.leverage_by_symbol = dict(leverage_by_symbol or {})
        self.settle_asset = settle_asset
        self.fees_quote = _ZERO
        self.volume = _ZERO
        self._assets: dict[str, tuple[str, str, str]] = {}
        self._instruments: dict[str, Instrument] = {}

    # -- instruments -------------------------------------------------------------------------
    def register(self, inst: Instrument) -> tuple[str, str, str]:
        a = self._assets.get(inst.symbol)
        if a is None:
            a = self._assets[inst.symbol] = assets_of(inst, self.settle_asset)
            self._instruments[inst.symbol] = inst
            for asset in a:
                self.wallet.setdefault(asset, _ZERO)
        return a

    def position(self, symbol: str) -> Position:
        p = self.positions.get(symbol)
        if p is None:
            p = self.positions[symbol] = Position(symbol)
        return p

    def leverage_of(self, symbol: str) -> Decimal:
        return self.leverage_by_symbol.get(symbol, self.leverage)

    # -- fills -------------------------------------------------------------------------------
    def apply_fill(
        self, inst: Instrument, side: Side, price: Decimal, qty: Decimal, liquidity: Liquidity
    ) -> FillCharge:
        base, quote, settle = self.register(inst)
        rates = self.fees.rates(inst.symbol, inst.category)
        rate = rates.maker if liquidity is Liquidity.MAKER else rates.taker
        notional = price * qty * inst.contract_multiplier
        wallet = self.wallet
        if inst.category == "spot":
            if side is Side.BUY and self.fees.spot_fee_asset == "received":
                fee = self.fees.fee(qty, rate)
                fee_asset, fee_quote = base, fee * price
                wallet[base] += qty - fee
                wallet[quote] -= notional
            else:
                fee = self.fees.fee(notional, rate)
                fee_asset, fee_quote = quote, fee
                if side is Side.BUY:
                    wallet[base] += qty
                    wallet[quote] -= notional + fee
                else:
                    wallet[base] -= qty
                    wallet[quote] += notional - fee
            realized = self.position(inst.symbol).apply_fill(side, price, qty, fee_quote)
        else:
            fee = self.fees.fee(notional, rate)
            fee_asset, fee_quote = settle, fee
            realized = self.position(inst.symbol).apply_fill(side, price, qty, fee)
            # The position's P&L is exact (an exact cost basis, see hayate.orders.Position),
            # so the wallet moves by exactly what the P&L figures say:
            # equity == starting equity + realized + unrealized - fees, to the last digit.
            wallet[settle] += realized - fee
        self.fees_quote += fee_quote
        self.volume += notional
        return FillCharge(fee, fee_asset, fee_quote, realized)

    # -- spot funds --------------------------------------------------------------------------
    def lock(self, asset: str, amount: Decimal) -> None:
        self.locked[asset] = self.locked.get(asset, _ZERO) + amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        left = self.locked.get(asset, _ZERO) - amount
        self.locked[asset] = left if left > 0 else _ZERO

    def free(self, asset: str) -> Decimal:
        return self.wallet.get(asset, _ZERO) - self.locked.get(asset, _ZERO)

    # -- valuation ---------------------------------------------------------------------------
    def unrealized(self, marks: Mapping[str, Decimal | None]) -> Decimal:
        total = _ZERO
        for sym, pos in self.positions.items():
            if pos.size:
                total += pos.unrealized_pnl(marks.get(sym))
        return total

    def realized(self) -> Decimal:
        return sum((p.realized_pnl for p in self.positions.values()), _ZERO)

    def linear_unrealized(self, marks: Mapping[str, Decimal | None]) -> Decimal:
        total = _ZERO
        for sym, pos in self.positions.items():
            inst = self._instruments.get(sym)
            if pos.size and inst is not None and inst.category != "spot":
                total += pos.unrealized_pnl(marks.get(sym))
        return total

    def asset_price(self, asset: str, marks: Mapping[str, Decimal | None]) -> Decimal | None:
        """Price of one unit of ``asset`` in the settle currency (None if unknown)."""
        if asset == self.settle_asset or asset in ("USDT", "USDC", "USD"):
            return _ONE
        for sym, (base, quote, _) in self._assets.items():
            if base == asset and quote == self.settle_asset:
                m = marks.get(sym)
                if m is not None:
                    return m
        return None

    def equity(self, marks: Mapping[str, Decimal | None]) -> Decimal:
        """Everything valued in the settle currency: coins at their marks plus the
        unrealized P&L of derivative positions."""
        total = _ZERO
        for asset, amount in self.wallet.items():
            if amount:
                px = self.asset_price(asset, marks)
                if px is not None:
                    total += amount * px
        return total + self.linear_unrealized(marks)

    def position_margin(self, marks: Mapping[str, Decimal | None]) -> Decimal:
        total = _ZERO
        for sym, pos in self.positions.items():
            inst = self._instruments.get(sym)
            if not pos.size or inst is None or inst.category == "spot":
                continue
            px = marks.get(sym) or pos.avg_price or _ZERO
            total += abs(pos.size) * px * inst.contract_multiplier / self.leverage_of(sym)
        return total

    def available_margin(
        self, marks: Mapping[str, Decimal | None], order_margin: Decimal
    ) -> Decimal:
        """Linear: what a new order may still use (wallet + unrealized - initial margins)."""
        wallet = self.wallet.get(self.settle_asset, _ZERO)
        return wallet + self.linear_unrealized(marks) - self.position_margin(marks) - order_margin

    def snapshot(self, assets: Iterable[str]) -> dict[str, Decimal]:
        return {a: self.wallet.get(a, _ZERO) for a in assets}
