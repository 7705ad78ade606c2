"""Relative strength index, with Wilder's smoothing."""

from __future__ import annotations

__all__ = ["RSI"]


class RSI:
    """Wilder's RSI over ``period`` price changes, in 0..100.

    The first average gain and loss are the simple means of the first ``period`` changes;
    after that each is smoothed as ``avg = (avg * (period - 1) + x) / period``. A window
    with no losses reads 100, one with neither gains nor losses 50.
    """

    __slots__ = ("_gain", "_loss", "_n", "_prev", "period", "value")

    def __init__(self, period: int = 14) -> None:
        if period < 1:
            raise ValueError("period must be >= 1")
        self.period = period
        self.value: float | None = None
        self._prev: float | None = None
        self._gain = 0.0
        self._loss = 0.0
        self._n = 0  # changes seen, up to period

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, price: float) -> float | None:
        prev = self._prev
        self._prev = price
        if prev is None:
            return None
        change = price - prev
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        p = self.period
        if self._n < p:
            self._n += 1
            self._gain += gain
            self._loss += loss
            if self._n < p:
                return None
            self._gain /= p
            self._loss /= p
        else:
            self._gain = (self._gain * (p - 1) + gain) / p
            self._loss = (self._loss * (p - 1) + loss) / p
        g, lo = self._gain, self._loss
        if lo == 0.0:
            self.value = 100.0 if g > 0.0 else 50.0
        else:
            self.value = 100.0 - 100.0 / (1.0 + g / lo)
        return self.value
