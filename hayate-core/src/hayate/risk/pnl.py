"""Run and daily P&L, their peaks and drawdowns, for the loss breakers."""

from __future__ import annotations

from decimal import Decimal

from hayate.clock import NS

__all__ = ["PnlTracker"]

_ZERO = Decimal(0)
_DAY = 86_400 * NS


class PnlTracker:
    """Follows one P&L figure over time: its peak and drawdown for the run and for the
    current UTC day (the day's figures restart at midnight UTC)."""

    __slots__ = ("day", "day_peak", "day_start", "max_drawdown", "peak", "pnl")

    def __init__(self) -> None:
        self.pnl = _ZERO
        self.peak = _ZERO
        self.max_drawdown = _ZERO
        self.day = -1
        self.day_start = _ZERO
        self.day_peak = _ZERO

    def update(self, now: int, pnl: Decimal) -> bool:
        """Record the P&L at ``now``; True when a new UTC day began."""
        new_day = False
        day = now // _DAY
        if day != self.day:
            new_day = self.day >= 0
            self.day = day
            self.day_start = self.pnl  # the day starts from where the last one ended
            self.day_peak = self.pnl
        self.pnl = pnl
        if pnl > self.peak:
            self.peak = pnl
        if pnl > self.day_peak:
            self.day_peak = pnl
        dd = self.peak - pnl
        if dd > self.max_drawdown:
            self.max_drawdown = dd
        return new_day

    @property
    def loss(self) -> Decimal:
        return -self.pnl

    @property
    def drawdown(self) -> Decimal:
        return self.peak - self.pnl

    @property
    def daily_loss(self) -> Decimal:
        return self.day_start - self.pnl

    @property
    def daily_drawdown(self) -> Decimal:
        return self.day_peak - self.pnl
