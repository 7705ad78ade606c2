"""Funds for orders: initial margin of open linear orders, the funds check a new order must
pass, and the funds a resting spot order locks.

Owned here: how much margin open orders need (one-way mode, as Bybit: orders on the side
that reduces the position need none up to its size, and only the larger side counts), the
margin still available (computed at most once per venue step; orders accepted in the step
take their share off it, fills and cancels invalidate it), and the spot locks (a buy locks
quote at its limit price, a sell locks base; released as it fills or when it ends). The
account itself (wallet, positions, fees) is :mod:`hayate_paper.account`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hayate.instruments import Instrument
from hayate_paper.account import Account
from hayate_paper.venue_state import SimOrder, SymbolState

__all__ = ["Margin", "margin_units"]

_ZERO = Decimal(0)


def margin_units(st: SymbolState, is_buy: bool = True, q: int = 0, n: int = 0) -> int:
    """Notional (price units x qty units) of one symbol's open orders that needs initial
    margin, with one hypothetical order of ``q`` units and notional ``n`` added.

    Orders on the side that reduces the position need none up to the position's size,
    and only the larger of the two sides counts (one-way mode, as Bybit does)."""
    buy_q, buy_n = st.open_buy, st.open_buy_notional
    sell_q, sell_n = st.open_sell, st.open_sell_notional
    if q:
        if is_buy:
            buy_q += q
            buy_n += n
        else:
            sell_q += q
            sell_n += n
    pos = st.pos
    buy_x = buy_q - (-pos if pos < 0 else 0)
    sell_x = sell_q - (pos if pos > 0 else 0)
    buy_v = buy_n * buy_x // buy_q if buy_x > 0 else 0
    sell_v = sell_n * sell_x // sell_q if sell_x > 0 else 0
    return buy_v if buy_v > sell_v else sell_v


class Margin:
    """The funds side of one paper venue (see the module docstring)."""

    def __init__(self, account: Account, symbols: dict[str, SymbolState],
                 marks: Callable[[], dict[str, Decimal | None]]) -> None:
        self.account = account
        self.symbols = symbols
        self.marks = marks
        self.avail: Decimal | None = None  # available margin, cached within a step

    def invalidate(self) -> None:
        """Something changed the margin (a new step, a fill, a cancel)."""
        self.avail = None

    def _im(self, st: SymbolState, units: int) -> Decimal:
        inst = st.inst
        assert inst is not None
        notional = Decimal(units).scaleb(-(inst.price_decimals + inst.qty_decimals))
        return notional * inst.contract_multiplier / self.account.leverage_of(st.symbol)

    def order_margin(self) -> Decimal:
        """Initial margin of all open linear orders."""
        total = _ZERO
        for st in self.symbols.values():
            inst = st.inst
            if inst is None or inst.category == "spot" or not st.resting:
                continue
            v = margin_units(st)
            if v:
                total += self._im(st, v)
        return total

    def available(self) -> Decimal:
        """What linear orders may still use (cached within a step)."""
        a = self.avail
        if a is None:
            a = self.avail = self.account.available_margin(self.marks(), self.order_margin())
        return a

    def has_funds(self, st: SymbolState, inst: Instrument, is_buy: bool, qty_u: int,
                  px: int) -> bool:
        """Whether a new order of ``qty_u`` at price units ``px`` can be paid for; a linear
        order that passes takes its margin off what is available in this step."""
        acct = self.account
        if inst.category == "spot":
            base, quote, _ = acct.register(inst)
            if is_buy:
                need = inst.price(px) * inst.qty(qty_u)
                rates = acct.fees.rates(inst.symbol, inst.category)
                if acct.fees.spot_fee_asset == "quote":
                    need += acct.fees.fee(need, rates.taker)
                return need <= acct.free(quote)
            return inst.qty(qty_u) <= acct.free(base)
        extra_units = margin_units(st, is_buy, qty_u, px * qty_u) - margin_units(st)
        if extra_units <= 0:
            return True
        extra = self._im(st, extra_units)
        rates = acct.fees.rates(inst.symbol, inst.category)
        fee = inst.price(px) * inst.qty(qty_u) * inst.contract_multiplier * rates.taker
        avail = self.available()
        if extra + fee > avail:
            return False
        self.avail = avail - extra
        return True

    # -- spot locks ------------------------------------------------------------------------------
    def lock_spot(self, o: SimOrder) -> None:
        """A resting spot order locks what it may spend (quote for a buy, base for a sell)."""
        inst = o.inst
        base, quote, _ = self.account.register(inst)
        if o.is_buy:
            assert o.px is not None
            amount = inst.price(o.px) * inst.qty(o.leaves)
            self.account.lock(quote, amount)
        else:
            amount = inst.qty(o.leaves)
            self.account.lock(base, amount)
        o.locked = amount

    def unlock_spot(self, o: SimOrder, leaves_before: int, leaves_after: int) -> None:
        """Release the share of ``o``'s lock that its leaves went down by (all at the end)."""
        if not o.locked:
            return
        inst = o.inst
        base, quote, _ = self.account.register(inst)
        if leaves_after <= 0:
            release = o.locked
        else:
            release = o.locked * Decimal(leaves_before - leaves_after) / Decimal(leaves_before)
        o.locked -= release
        self.account.unlock(quote if o.is_buy else base, release)
