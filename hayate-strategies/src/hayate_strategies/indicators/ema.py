"""Exponential moving average."""

from __future__ import annotations

__all__ = ["EMA"]


class EMA:
    """EMA with smoothing ``2 / (period + 1)``, seeded with the simple mean of the first
    ``period`` values (so its first value does not lean on one arbitrary sample)."""

    __slots__ = ("_n", "_sum", "alpha", "period", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError("period must be >= 1")
        self.period = period
        self.alpha = 2.0 / (period + 1)
        self.value: float | None = None
        self._n = 0
        self._sum = 0.0

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, x: float) -> float | None:
        v = self.value
        if v is not None:
            v += self.alpha * (x - v)
            self.value = v
            return v
        self._n += 1
        self._sum += x
        if self._n == self.period:
            self.value = self._sum / self.period
        return self.value
