"""Average true range (ATR) and its normalised form (NATR)."""

from __future__ import annotations

__all__ = ["ATR", "true_range"]


def true_range(high: float, low: float, prev_close: float | None) -> float:
    """The bar's range, stretched to include a gap from the previous close."""
    if prev_close is None:
        return high - low
    return max(high - low, abs(high - prev_close), abs(low - prev_close))


class ATR:
    """Wilder's ATR over ``period`` bars; :attr:`natr` is ATR as a percentage of the close.

    The first bar's true range is its high minus its low; the first ATR is the mean of the
    first ``period`` true ranges, then ``atr = (atr * (period - 1) + tr) / period``.
    """

    __slots__ = ("_close", "_n", "_sum", "natr", "period", "value")

    def __init__(self, period: int = 14) -> None:
        if period < 1:
            raise ValueError("period must be >= 1")
        self.period = period
        self.value: float | None = None
        self.natr: float | None = None
        self._close: float | None = None
        self._n = 0
        self._sum = 0.0

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, high: float, low: float, close: float) -> float | None:
        tr = true_range(high, low, self._close)
        self._close = close
        p = self.period
        v = self.value
        if v is None:
            self._n += 1
            self._sum += tr
            if self._n < p:
                return None
            v = self._sum / p
        else:
            v = (v * (p - 1) + tr) / p
        self.value = v
        self.natr = 100.0 * v / close if close else None
        return v
