"""Time bars (open/high/low/close) from a stream of prices, for bar-based indicators."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["BarSampler"]

OnBar = Callable[[float, float, float, float], None]


class BarSampler:
    """Cuts a price stream into bars of ``interval_ns``, aligned on multiples of it.

    ``on_bar(open, high, low, close)`` is called when a bar closes, i.e. at the first
    price of a later interval. Intervals without any price in between produce flat bars
    at the last close (prices did not move), at most ``max_gap_bars`` of them: after a
    long silence the indicators have forgotten the old market anyway.
    """

    __slots__ = ("_c", "_end", "_h", "_l", "_o", "interval", "max_gap_bars", "on_bar")

    def __init__(self, interval_ns: int, on_bar: OnBar, max_gap_bars: int = 100) -> None:
        if interval_ns <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval_ns
        self.on_bar = on_bar
        self.max_gap_bars = max_gap_bars
        self._end = 0  # end of the current bar (exclusive); 0: no bar yet
        self._o = self._h = self._l = self._c = 0.0

    def update(self, t: int, price: float) -> None:
        if t < self._end:
            if price > self._h:
                self._h = price
            elif price < self._l:
                self._l = price
            self._c = price
            return
        if self._end:
            self._roll(t)
        self._end = (t // self.interval + 1) * self.interval
        self._o = self._h = self._l = self._c = price

    def _roll(self, t: int) -> None:
        c = self._c
        self.on_bar(self._o, self._h, self._l, c)
        gaps = (t - self._end) // self.interval
        for _ in range(min(gaps, self.max_gap_bars)):
            self.on_bar(c, c, c, c)
