"""Position accounting: signed size, average entry price, realized P&L, fees.

Shared by the paper exchange (which is the venue) and the live account state (which
mirrors the venue), so both compute P&L the same way. Values are ``Decimal``; the average
entry price is a rational quantity, so it is carried at 40 significant digits.
"""

from __future__ import annotations

from decimal import Context, Decimal

from hayate.events import Side

__all__ = ["Position"]

_ZERO = Decimal(0)
_CTX = Context(prec=40)


class Position:
    """One symbol's position. ``size`` > 0 long, < 0 short.

    For inverse contracts (``inverse=True``) sizes are in contracts worth one quote unit
    each and P&L is in the base coin: ``qty * (1/entry - 1/exit)`` for a long.
    """

    __slots__ = ("avg_price", "buy_qty", "fees", "fills", "inverse", "realized_pnl", "sell_qty",
                 "size", "symbol", "volume")

    def __init__(self, symbol: str, *, inverse: bool = False) -> None:
        self.symbol = symbol
        self.inverse = inverse
        self.size = _ZERO
        self.avg_price: Decimal | None = None
        self.realized_pnl = _ZERO
        self.fees = _ZERO
        self.volume = _ZERO  # traded notional (quote currency)
        self.buy_qty = _ZERO
        self.sell_qty = _ZERO
        self.fills = 0

    def _pnl(self, qty: Decimal, entry: Decimal, exit_: Decimal, long: bool) -> Decimal:
        if self.inverse:
            d = _CTX.subtract(_CTX.divide(qty, entry), _CTX.divide(qty, exit_))
        else:
            d = _CTX.multiply(qty, exit_ - entry)
        return d if long else -d

    def apply_fill(self, side: Side, price: Decimal, qty: Decimal, fee: Decimal = _ZERO) -> Decimal:
        """Apply one fill; returns the P&L it realized (before fees)."""
        if qty <= 0:
            raise ValueError("fill qty must be positive")
        self.fills += 1
        self.fees += fee
        self.volume += qty if self.inverse else price * qty
        if side is Side.BUY:
            self.buy_qty += qty
        else:
            self.sell_qty += qty
        signed = qty if side is Side.BUY else -qty
        size = self.size
        realized = _ZERO
        if size == 0 or (size > 0) == (signed > 0):
            # Opening or adding: the average entry moves towards this price.
            new_abs = abs(size) + qty
            if self.avg_price is None or size == 0:
                self.avg_price = price
            elif self.inverse:
                # Inverse contracts average in 1/price space.
                inv = _CTX.divide(
                    _CTX.divide(abs(size), self.avg_price) + _CTX.divide(qty, price), new_abs
                )
                self.avg_price = _CTX.divide(Decimal(1), inv)
            else:
                self.avg_price = _CTX.divide(abs(size) * self.avg_price + qty * price, new_abs)
            self.size = size + signed
        else:
            closing = min(qty, abs(size))
            assert self.avg_price is not None
            realized = self._pnl(closing, self.avg_price, price, long=size > 0)
            self.realized_pnl += realized
            self.size = size + signed
            if self.size == 0:
                self.avg_price = None
            elif (self.size > 0) != (size > 0):
                self.avg_price = price  # flipped: the remainder opened at this price
        return realized

    def unrealized_pnl(self, mark: Decimal | None) -> Decimal:
        if self.size == 0 or self.avg_price is None or mark is None:
            return _ZERO
        return self._pnl(abs(self.size), self.avg_price, mark, long=self.size > 0)

    def notional(self, mark: Decimal) -> Decimal:
        return abs(self.size) if self.inverse else abs(self.size) * mark

    def set_from_venue(self, size: Decimal, avg_price: Decimal | None) -> None:
        """Adopt the venue's figures (reconciliation, position pushes)."""
        self.size = size
        self.avg_price = avg_price if size != 0 else None

    def __repr__(self) -> str:
        return (f"<Position {self.symbol} size={self.size} avg={self.avg_price} "
                f"realized={self.realized_pnl} fees={self.fees}>")
