"""Fitting a latency distribution to observed latencies, with closed-form estimators.

The candidates are the paper exchange's own latency settings (:mod:`hayate_paper.latency`):

- ``constant``: the median;
- ``uniform``: from the smallest to the largest observation;
- ``normal``: the mean and standard deviation, clamped at ``min`` = 0;
- ``lognormal``: the mean and standard deviation of log(latency) (maximum likelihood),
  clamped to the observed range (``min``, ``max``), so no draw goes beyond what was seen.

Each is scored by the Kolmogorov-Smirnov distance between its distribution function and
the observations (the largest gap between the two, 0 to 1, evaluated on both sides of
every observation and of every jump of a clamped distribution); the lowest wins, the
simpler one on a tie. Nothing beyond the standard library (``statistics.NormalDist``).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist, fmean, pstdev
from typing import Any

__all__ = ["LatencyFit", "fit_latency", "format_ms", "ks_distance"]

_Q = (0.1, 0.5, 0.9, 0.99)
_STD = NormalDist()
_TIE = 0.005  # a simpler candidate within this KS distance of the best wins


def format_ms(seconds: float) -> str:
    """A duration as the spec writes it, to the microsecond: ``"6.632ms"``."""
    ms = round(seconds * 1000, 3)
    text = f"{ms:.3f}".rstrip("0").rstrip(".")
    return f"{text or '0'}ms"


def ks_distance(xs: Sequence[float], cdf: Callable[[float], float],
                cdf_left: Callable[[float], float] | None = None,
                jumps: Sequence[float] = ()) -> float:
    """Largest gap between the empirical distribution of sorted ``xs`` and ``cdf``
    (``cdf_left``: its left limit, for a distribution with jumps at ``jumps``)."""
    n = len(xs)
    left = cdf_left or cdf
    points = sorted({*xs, *jumps})
    d = 0.0
    for v in points:
        below = bisect_left(xs, v) / n
        upto = bisect_right(xs, v) / n
        d = max(d, abs(upto - cdf(v)), abs(below - left(v)))
    return d


@dataclass
class LatencyFit:
    """The chosen distribution for one latency, and how well each candidate fitted."""

    setting: str
    n: int
    spec: dict[str, Any]  # the spec's table: {"dist": "lognormal", "median": "6.6ms", ...}
    ks: float
    candidates: dict[str, float] = field(default_factory=dict)  # candidate -> KS distance
    observed_ms: dict[str, float] = field(default_factory=dict)  # p10, p50, p90, p99
    fitted_ms: dict[str, float] = field(default_factory=dict)
    clamped: int = 0  # observations below zero, counted as zero
    shift_ms: float = 0.0  # added to every observation (timestamp rounding)

    def toml(self) -> str:
        """The spec value: a duration for a constant, else an inline table."""
        if self.spec["dist"] == "constant":
            return f'"{self.spec["value"]}"'
        parts = []
        for k, v in self.spec.items():
            parts.append(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v:g}")
        return "{ " + ", ".join(parts) + " }"


def _quantiles(xs: Sequence[float]) -> dict[str, float]:
    n = len(xs)
    out = {}
    for q in _Q:
        pos = q * (n - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, n - 1)
        out[f"p{round(q * 100)}"] = round((xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)) * 1000, 3)
    return out


def fit_latency(setting: str, values_ns: Sequence[int], shift_ns: int = 0) -> LatencyFit | None:
    """The best of the candidates for ``values_ns`` (None: no observation)."""
    if not values_ns:
        return None
    raw = [(v + shift_ns) / 1e9 for v in values_ns]
    clamped = sum(1 for v in raw if v < 0)
    xs = sorted(max(0.0, v) for v in raw)
    n = len(xs)
    lo, hi = xs[0], xs[-1]
    med = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    fits: list[tuple[str, float, dict[str, Any], dict[str, float]]] = []

    def add(name: str, ks: float, spec: dict[str, Any], inv: Callable[[float], float]) -> None:
        fits.append((name, ks, spec, {f"p{round(q * 100)}": round(inv(q) * 1000, 3) for q in _Q}))

    def step(x: float) -> float:
        return 1.0 if x >= med else 0.0

    def step_left(x: float) -> float:
        return 1.0 if x > med else 0.0

    add("constant", ks_distance(xs, step, step_left, (med,)),
        {"dist": "constant", "value": format_ms(med)}, lambda q: med)
    if hi > lo:
        span = hi - lo
        add("uniform", ks_distance(xs, lambda x: min(1.0, max(0.0, (x - lo) / span))),
            {"dist": "uniform", "low": format_ms(lo), "high": format_ms(hi)},
            lambda q: lo + q * span)
        mean, std = fmean(xs), pstdev(xs)
        if std > 0:
            nd = NormalDist(mean, std)
            add("normal", ks_distance(xs, lambda x: nd.cdf(x) if x >= 0 else 0.0,
                                      lambda x: nd.cdf(x) if x > 0 else 0.0, (0.0,)),
                {"dist": "normal", "mean": format_ms(mean), "std": format_ms(std), "min": "0ms"},
                lambda q: max(0.0, nd.inv_cdf(q)))
        pos = [x for x in xs if x > 0]
        if len(pos) >= 2:
            logs = [math.log(x) for x in pos]
            mu, sigma = fmean(logs), pstdev(logs)
            if sigma > 0:
                floor, top = pos[0], hi

                def ln_cdf(x: float) -> float:
                    if x < floor:
                        return 0.0
                    if x >= top:
                        return 1.0
                    return _STD.cdf((math.log(x) - mu) / sigma)

                def ln_left(x: float) -> float:
                    if x <= floor:
                        return 0.0
                    if x > top:
                        return 1.0
                    return _STD.cdf((math.log(x) - mu) / sigma)

                add("lognormal", ks_distance(xs, ln_cdf, ln_left, (floor, top)),
                    {"dist": "lognormal", "median": format_ms(math.exp(mu)),
                     "sigma": round(sigma, 4), "min": format_ms(floor), "max": format_ms(top)},
                    lambda q: min(top, max(floor, math.exp(mu + sigma * _STD.inv_cdf(q)))))
    best_ks = min(f[1] for f in fits)
    _, ks, spec, fitted = next(f for f in fits if f[1] <= best_ks + _TIE)
    return LatencyFit(setting=setting, n=n, spec=spec, ks=round(ks, 4),
                      candidates={f[0]: round(f[1], 4) for f in fits},
                      observed_ms=_quantiles(xs), fitted_ms=fitted, clamped=clamped,
                      shift_ms=round(shift_ns / 1e6, 3))
