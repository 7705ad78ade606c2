"""Position accounting: signed size, an exact cost basis, realized P&L, fees.

Shared by the paper exchange (which is the venue), the live account state (which mirrors
the venue), the risk engine and the run's ledger, so every one of them computes P&L the
same way from the same fills.

Why a cost basis and not an average price: the average entry is a rational number
(``cost / size``) that a ``Decimal`` can only round, and rounding it differently on two
paths (a live run and its crash recovery, the venue and the bot) made their P&L differ in
the last digits. The position keeps instead its **cost basis** — the signed sum of
``qty * price`` of what is open, an exact ``Decimal`` — and derives the average from it
only to show it. A closing fill takes its share of the cost basis (``cost * closed /
size``), rounded to :data:`PNL_QUANTUM` only in the rare case it has more digits, and the
rounding stays in the cost basis of what remains instead of being lost. So, exactly:

- ``realized + unrealized(mark) == cash flow of every fill + size * mark`` (the total P&L
  depends only on the fills and the mark, never on their order or on the path);
- fills that end flat realize ``sum(sells) - sum(buys)`` whatever their order;
- the same fills applied on any path give the same figures to the last digit.

Inverse contracts (sizes in contracts worth one quote unit, P&L in the base coin) keep
their cost basis in coin: each fill's value ``qty / price`` is rounded to
:data:`PNL_QUANTUM` (a satoshi for BTC) once, and the same identities hold in coin.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

from hayate.events import Side

__all__ = ["PNL_QUANTUM", "Position"]

_ZERO = Decimal(0)
_SHOW = Context(prec=40)  # the average entry is shown at 40 digits; P&L never uses it
# Sums and products of fills' decimals are exact in 60 digits (Decimal's default, 28,
# would round a cost basis of 1e12 with 16 decimals).
_EXACT = Context(prec=60)
_mul = _EXACT.multiply
_add = _EXACT.add
_sub = _EXACT.subtract

#: The finest amount a P&L figure carries when a division forces a rounding (the cost
#: basis a partial close takes, an inverse contract's value): 1e-8, the precision Bybit
#: books balances in (USDT, USDC, BTC).
PNL_QUANTUM = Decimal("1e-8")


def _q(d: Decimal) -> Decimal:
    """``d`` unchanged when it has at most 8 decimals, else rounded half-even to 8."""
    exp = d.as_tuple().exponent
    if isinstance(exp, int) and exp >= -8:
        return d
    return d.quantize(PNL_QUANTUM, rounding=ROUND_HALF_EVEN)


class Position:
    """One symbol's position. ``size`` > 0 long, < 0 short; ``cost`` its signed cost basis.

    For inverse contracts (``inverse=True``) sizes are in contracts worth one quote unit
    each and P&L is in the base coin: ``qty * (1/entry - 1/exit)`` for a long.
    """

    __slots__ = ("avg_unknown", "buy_qty", "cost", "fees", "fills", "inverse", "realized_pnl",
                 "sell_qty", "size", "symbol", "volume")

    def __init__(self, symbol: str, *, inverse: bool = False) -> None:
        self.symbol = symbol
        self.inverse = inverse
        self.size = _ZERO
        # Linear: sum of signed qty * price of what is open. Inverse: sum of signed
        # qty / price (coin), each term rounded once.
        self.cost = _ZERO
        self.avg_unknown = False  # a venue gave a size without an entry price
        self.realized_pnl = _ZERO
        self.fees = _ZERO
        self.volume = _ZERO  # traded notional (quote currency; contracts for inverse)
        self.buy_qty = _ZERO
        self.sell_qty = _ZERO
        self.fills = 0

    @property
    def avg_price(self) -> Decimal | None:
        """The average entry price (``cost / size``, shown at 40 digits), None when flat."""
        if self.size == 0 or self.avg_unknown or self.cost == 0:
            return None
        if self.inverse:
            return _SHOW.divide(self.size, self.cost)
        return _SHOW.divide(self.cost, self.size)

    def _value(self, qty: Decimal, price: Decimal) -> Decimal:
        """What ``qty`` (signed) at ``price`` adds to the cost basis."""
        return _q(_EXACT.divide(qty, price)) if self.inverse else _mul(qty, price)

    def apply_fill(self, side: Side, price: Decimal, qty: Decimal, fee: Decimal = _ZERO) -> Decimal:
        """Apply one fill; returns the P&L it realized (before fees)."""
        if qty <= 0:
            raise ValueError("fill qty must be positive")
        self.fills += 1
        self.fees = _add(self.fees, fee)
        self.volume = _add(self.volume, qty if self.inverse else _mul(price, qty))
        if side is Side.BUY:
            self.buy_qty += qty
            signed = qty
        else:
            self.sell_qty += qty
            signed = -qty
        size = self.size
        if size == 0 or (size > 0) == (signed > 0):
            # Opening or adding: the whole fill joins the cost basis.
            self.cost = _add(self.cost, self._value(signed, price))
            self.size = size + signed
            return _ZERO
        closing = qty if qty < abs(size) else abs(size)
        if closing == abs(size):
            taken = self.cost  # flat (or flipped): the whole cost basis, exactly
        else:
            taken = _q(_EXACT.divide(_mul(self.cost, closing), abs(size)))
        # What the closed part is worth at this price, signed like the position.
        closed_value = self._value(closing if size > 0 else -closing, price)
        realized = _sub(taken, closed_value) if self.inverse else _sub(closed_value, taken)
        self.realized_pnl = _add(self.realized_pnl, realized)
        self.cost = _sub(self.cost, taken)
        self.size = size + signed
        if self.size == 0:
            self.cost = _ZERO
            self.avg_unknown = False
        elif (self.size > 0) != (size > 0):
            # Flipped: the remainder opened at this price.
            self.cost = self._value(self.size, price)
            self.avg_unknown = False
        return realized

    def unrealized_pnl(self, mark: Decimal | None) -> Decimal:
        """P&L of the open position at ``mark`` (0 without a mark or an entry price)."""
        if self.size == 0 or mark is None or self.avg_unknown:
            return _ZERO
        if self.inverse:
            return _sub(self.cost, self._value(self.size, mark))
        return _sub(_mul(self.size, mark), self.cost)

    def notional(self, mark: Decimal) -> Decimal:
        return abs(self.size) if self.inverse else abs(self.size) * mark

    def set_from_venue(self, size: Decimal, avg_price: Decimal | None) -> None:
        """Adopt the venue's figures (reconciliation, position pushes)."""
        if size == 0:
            self.size, self.cost, self.avg_unknown = size, _ZERO, False
            return
        if avg_price is None or avg_price <= 0:
            # Keep our own average when we have one (the cost basis scaled to the venue's
            # size); else the entry is unknown.
            if self.size == 0 or self.avg_unknown:
                self.size, self.cost, self.avg_unknown = size, _ZERO, True
            else:
                self.cost = _q(_EXACT.divide(_mul(self.cost, size), self.size))
                self.size = size
            return
        self.size = size
        self.cost = self._value(size, avg_price)
        self.avg_unknown = False

    def __repr__(self) -> str:
        return (f"<Position {self.symbol} size={self.size} avg={self.avg_price} "
                f"realized={self.realized_pnl} fees={self.fees}>")
