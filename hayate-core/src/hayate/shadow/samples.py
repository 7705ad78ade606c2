"""Bounded samples of a measurement (latencies, times to fill) and their quantiles.

Up to ``limit`` values are kept exactly; beyond that a seeded reservoir keeps a uniform
sample of everything seen, so memory stays flat over a long live run and the quantiles of a
short one are exact.
"""

from __future__ import annotations

import math
import random
from typing import Any

__all__ = ["QUANTILES", "Samples", "ks_two_sample", "quantile"]

QUANTILES = (0.1, 0.5, 0.9, 0.99)


def quantile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (linear interpolation between order statistics)."""
    n = len(sorted_values)
    if n == 0:
        raise ValueError("no values")
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


class Samples:
    """A bounded, uniform sample of one measurement (see the module docstring)."""

    __slots__ = ("_random", "count", "limit", "total", "values")

    def __init__(self, limit: int = 20_000, seed: int = 0) -> None:
        self.limit = limit
        self.values: list[float] = []
        self.count = 0
        self.total = 0.0
        self._random = random.Random(seed)

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if len(self.values) < self.limit:
            self.values.append(value)
        else:
            j = self._random.randrange(self.count)
            if j < self.limit:
                self.values[j] = value

    def summary(self, scale: float = 1.0, digits: int = 3) -> dict[str, Any]:
        """``n``, ``mean`` and the :data:`QUANTILES` (``p10``, ``p50``...), divided by
        ``scale`` (1e6: nanoseconds to milliseconds); ``{"n": 0}`` when empty."""
        if not self.count:
            return {"n": 0}
        vals = sorted(self.values)
        out: dict[str, Any] = {"n": self.count, "mean": round(self.total / self.count / scale, digits)}
        for q in QUANTILES:
            out[f"p{round(q * 100):d}"] = round(quantile(vals, q) / scale, digits)
        return out


def ks_two_sample(a: Samples, b: Samples) -> float | None:
    """The Kolmogorov-Smirnov distance between two samples' distributions (0: the same,
    1: apart); None when either is empty."""
    xs, ys = sorted(a.values), sorted(b.values)
    if not xs or not ys:
        return None
    i = j = 0
    d = 0.0
    nx, ny = len(xs), len(ys)
    while i < nx and j < ny:
        v = xs[i] if xs[i] <= ys[j] else ys[j]
        while i < nx and xs[i] == v:
            i += 1
        while j < ny and ys[j] == v:
            j += 1
        d = max(d, abs(i / nx - j / ny))
    return round(d, 4)
