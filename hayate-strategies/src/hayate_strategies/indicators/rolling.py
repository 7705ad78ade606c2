"""Rolling mean and variance over the last ``window`` values, O(1) per update."""

from __future__ import annotations

from collections import deque

__all__ = ["RollingMean", "RollingVariance"]


class RollingMean:
    """Mean of the last ``window`` values. The running sum is recomputed exactly once per
    ``window`` updates, so float drift never builds up over a long run."""

    __slots__ = ("_since", "_sum", "values", "window")

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = window
        self.values: deque[float] = deque()
        self._sum = 0.0
        self._since = 0

    @property
    def ready(self) -> bool:
        return len(self.values) == self.window

    @property
    def value(self) -> float | None:
        return self._sum / len(self.values) if self.ready else None

    def update(self, x: float) -> float | None:
        vals = self.values
        vals.append(x)
        self._sum += x
        if len(vals) > self.window:
            self._sum -= vals.popleft()
        self._since += 1
        if self._since >= self.window:
            self._since = 0
            self._sum = sum(vals)
        return self.value


class RollingVariance:
    """Population variance of the last ``window`` values (Welford's update, with the
    oldest value removed as a new one arrives; re-anchored exactly every ``window``
    updates so rounding errors stay bounded)."""

    __slots__ = ("_m2", "_mean", "_since", "values", "window")

    def __init__(self, window: int) -> None:
        if window < 2:
            raise ValueError("window must be >= 2")
        self.window = window
        self.values: deque[float] = deque()
        self._mean = 0.0
        self._m2 = 0.0
        self._since = 0

    @property
    def ready(self) -> bool:
        return len(self.values) == self.window

    @property
    def value(self) -> float | None:
        if not self.ready:
            return None
        return max(0.0, self._m2 / self.window)

    @property
    def mean(self) -> float | None:
        return self._mean if self.values else None

    def update(self, x: float) -> float | None:
        vals = self.values
        vals.append(x)
        n = len(vals)
        if n <= self.window:
            delta = x - self._mean
            self._mean += delta / n
            self._m2 += delta * (x - self._mean)
        else:
            old = vals.popleft()
            mean = self._mean
            new_mean = mean + (x - old) / self.window
            self._m2 += (x - old) * (x - new_mean + old - mean)
            self._mean = new_mean
        self._since += 1
        if self._since >= self.window:
            self._since = 0
            self._reanchor()
        return self.value

    def _reanchor(self) -> None:
        vals = self.values
        mean = sum(vals) / len(vals)
        self._mean = mean
        self._m2 = sum((v - mean) ** 2 for v in vals)
