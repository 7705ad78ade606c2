"""Quote ladders on the tick grid: where each level goes, and how much it may size.

Pure functions over integer price units, shared by every market maker and tested on
their own. Bids round down and asks round up, so rounding never narrows the spread the
strategy asked for; with PostOnly, prices stay at least one tick inside the opposite
best price so that a quote never crosses the book when it is sent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

__all__ = ["capped_qty", "ladder_prices", "round_down", "round_up"]

_EPS = 1e-9  # a float that should be an exact multiple of the tick must not lose a tick


def round_down(units: float, tick: int) -> int:
    """Largest multiple of ``tick`` at or below ``units``."""
    return math.floor(units / tick + _EPS) * tick


def round_up(units: float, tick: int) -> int:
    """Smallest multiple of ``tick`` at or above ``units``."""
    return math.ceil(units / tick - _EPS) * tick


def ladder_prices(
    *,
    bid_start: float,
    ask_start: float,
    spacing: float,
    levels: int,
    tick: int,
    best_bid: int | None,
    best_ask: int | None,
    post_only: bool,
) -> tuple[list[int], list[int]]:
    """Bid and ask prices (units, best first) for ``levels`` levels per side.

    ``bid_start``/``ask_start`` are the level-0 targets and ``spacing`` the extra distance
    per further level, all in (fractional) price units. Levels are at least one tick
    apart; bids that would be zero or negative are dropped.
    """
    bids: list[int] = []
    asks: list[int] = []
    bid_cap = best_ask - tick if post_only and best_ask is not None else None
    ask_floor = best_bid + tick if post_only and best_bid is not None else None
    prev_b: int | None = None
    prev_a: int | None = None
    for i in range(levels):
        b = round_down(bid_start - i * spacing, tick)
        a = round_up(ask_start + i * spacing, tick)
        if bid_cap is not None and b > bid_cap:
            b = bid_cap
        if ask_floor is not None and a < ask_floor:
            a = ask_floor
        if a <= b:
            a = b + tick  # rounding met in the middle: keep the two sides a tick apart
        if prev_b is not None and b > prev_b - tick:
            b = prev_b - tick
        if prev_a is not None and a < prev_a + tick:
            a = prev_a + tick
        if b > 0:
            bids.append(b)
            prev_b = b
        prev_a = a
        asks.append(a)
    return bids, asks


def capped_qty(want: Decimal, capacity: Decimal | None, step: Decimal, min_qty: Decimal
               ) -> Decimal:
    """``want`` cut down to ``capacity`` on the qty grid; 0 when what is left is too small."""
    if capacity is None or want <= capacity:
        return want
    if capacity <= 0:
        return Decimal(0)
    q = (capacity // step) * step
    return q if q > 0 and q >= min_qty else Decimal(0)


def total_leaves(orders: Sequence[object]) -> Decimal:
    return sum((o.leaves_qty for o in orders), Decimal(0))  # type: ignore[attr-defined]
