"""In-process metrics: counters, gauges and histograms with labels.

Cheap enough for the event loop (a dict update). Exported as ``summary.json`` figures
and, when ``[engine] metrics`` is set, as a Prometheus text endpoint.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

__all__ = ["Histogram", "Metrics"]

LabelKey = tuple[tuple[str, str], ...]

# Microsecond buckets suited to tick-to-trade and event-handling latencies.
DEFAULT_BUCKETS_US: tuple[float, ...] = (
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000
)


class Histogram:
    __slots__ = ("_keep", "buckets", "count", "counts", "samples", "sum")

    def __init__(self, buckets: Iterable[float] = DEFAULT_BUCKETS_US, keep: int = 100_000) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.count = 0
        self.sum = 0.0
        self.samples: list[float] = []
        self._keep = keep

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.count += 1
        self.sum += value
        if len(self.samples) < self._keep:
            self.samples.append(value)

    def quantile(self, q: float) -> float | None:
        """Exact quantile over the kept samples (the first ``keep`` observations)."""
        if not self.samples:
            return None
        s = sorted(self.samples)
        return s[min(len(s) - 1, int(q * len(s)))]


def _key(labels: dict[str, Any]) -> LabelKey:
    if not labels:
        return ()
    if len(labels) == 1:  # the common case on the hot path: no sort, no generator
        ((k, v),) = labels.items()
        return ((k, v if type(v) is str else str(v)),)
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


class Metrics:
    def __init__(self) -> None:
        self.counters: dict[str, dict[LabelKey, float]] = {}
        self.gauges: dict[str, dict[LabelKey, float]] = {}
        self.histograms: dict[str, dict[LabelKey, Histogram]] = {}
        self.help: dict[str, str] = {}

    def inc(self, name: str, n: float = 1, **labels: Any) -> None:
        series = self.counters.get(name)
        if series is None:
            series = self.counters[name] = {}
        k = _key(labels)
        series[k] = series.get(k, 0) + n

    def set(self, name: str, value: float, **labels: Any) -> None:
        self.gauges.setdefault(name, {})[_key(labels)] = value

    def histogram(self, name: str, **labels: Any) -> Histogram:
        series = self.histograms.setdefault(name, {})
        k = _key(labels)
        h = series.get(k)
        if h is None:
            h = series[k] = Histogram()
        return h

    def counter_total(self, name: str) -> float:
        return sum(self.counters.get(name, {}).values())

    def counter_by(self, name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, v in self.counters.get(name, {}).items():
            lab = dict(key).get(label, "")
            out[lab] = out.get(lab, 0) + v
        return out
