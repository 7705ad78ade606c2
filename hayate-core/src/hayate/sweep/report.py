"""Make sense of a sweep: parameter sets ranked by a metric, and a metric over two parameters.

A parameter set is judged over every dataset it ran on (mean, worst, best), so a set that
shines on one day and loses on the others does not top the table by luck. The heat map
averages the metric over everything else that varied (other parameters, datasets) and
says how many runs each cell averages.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hayate.sweep.combinations import canonical_json
from hayate.sweep.store import METRICS, Row

__all__ = ["HeatMap", "Ranked", "default_axes", "heat_map", "rank", "sort_key"]


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers (and decimal strings such as "0.005") in numeric order, then the rest."""
    if isinstance(value, bool):
        return (0, Decimal(int(value)))
    if isinstance(value, int | float):
        return (0, Decimal(str(value)) if math.isfinite(value) else Decimal(value))
    if isinstance(value, str):
        try:
            d = Decimal(value)
            if d.is_finite():
                return (0, d)
        except InvalidOperation:
            pass
        return (1, value)
    return (2, canonical_json(value))


@dataclass
class Ranked:
    params: dict[str, Any]
    values: list[float] = field(default_factory=list)
    ok: int = 0
    failed: int = 0
    means: dict[str, float | None] = field(default_factory=dict)
    #: 0: ranked on its merits; 1: below every real result (a run failed, or fewer fills
    #: than the minimum); 2: no figure at all (every run failed or is pending).
    tier: int = 0
    note: str = ""

    @property
    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    @property
    def worst(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def best(self) -> float | None:
        return max(self.values) if self.values else None


def rank(rows: Sequence[Row], metric: str, *, descending: bool = True,
         min_fills: int = 1) -> list[Ranked]:
    """Parameter sets by the mean of ``metric`` over their successful runs.

    A set with a failed run, or with fewer than ``min_fills`` fills on average, is ranked
    after every set without either (a strategy that never traded has the best drawdown
    and no fees, and must not top the table); sets without any figure come last."""
    if metric not in METRICS:
        raise KeyError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    groups: dict[str, Ranked] = {}
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        key = canonical_json(row.params)
        entry = groups.setdefault(key, Ranked(dict(row.params)))
        if row.status != "ok":
            entry.failed += row.status == "failed"
            continue
        entry.ok += 1
        value = row.metrics.get(metric)
        if value is not None:
            entry.values.append(float(value))
        for m, v in row.metrics.items():
            if v is not None:
                sums[key][m].append(float(v))
    for key, entry in groups.items():
        entry.means = {m: (sum(v) / len(v)) for m, v in sums[key].items()}
        fills = entry.means.get("fills")
        if not entry.values:
            entry.tier, entry.note = 2, "no result"
        elif entry.failed:
            entry.tier, entry.note = 1, f"{entry.failed} failed"
        elif fills is None or fills < min_fills:
            entry.tier = 1
            entry.note = "no fill" if not fills else f"fewer than {min_fills} fills"
    sign = -1.0 if descending else 1.0
    return sorted(groups.values(), key=lambda g: (g.tier, sign * (g.mean or 0.0)))


@dataclass
class HeatMap:
    """Cells keyed by (column, row) index; ``xs``/``ys`` are the axis labels."""

    metric: str
    x_key: str
    y_key: str | None
    xs: list[str]
    ys: list[str]
    cells: dict[tuple[int, int], tuple[float, int]]  # -> (mean, runs)

    def cell(self, i: int, j: int) -> tuple[float, int] | None:
        return self.cells.get((i, j))

    @property
    def bounds(self) -> tuple[float, float] | None:
        values = [v for v, _ in self.cells.values()]
        return (min(values), max(values)) if values else None


MAX_LEVELS = 10


class _Axis:
    """The values of one parameter as heat-map columns: each value its own column, or, for
    more than ``MAX_LEVELS`` numeric values (a random sample), equal-width ranges."""

    def __init__(self, values: list[Any], label: Any) -> None:
        distinct = {canonical_json(v): v for v in values}
        ordered = sorted(distinct.values(), key=sort_key)
        numbers = [sort_key(v)[1] for v in ordered]
        self.edges: list[Decimal] | None = None
        if len(ordered) > MAX_LEVELS and all(sort_key(v)[0] == 0 for v in ordered):
            lo, hi = numbers[0], numbers[-1]
            step = (hi - lo) / MAX_LEVELS
            self.edges = [lo + step * k for k in range(MAX_LEVELS + 1)]
            self.labels = [f"{_short(self.edges[k])}-{_short(self.edges[k + 1])}"
                           for k in range(MAX_LEVELS)]
        else:
            self.index = {canonical_json(v): k for k, v in enumerate(ordered)}
            self.labels = [label(v) for v in ordered]

    def position(self, value: Any) -> int:
        if self.edges is None:
            return self.index[canonical_json(value)]
        x = sort_key(value)[1]
        for k in range(MAX_LEVELS - 1):
            if x < self.edges[k + 1]:
                return k
        return MAX_LEVELS - 1


def _short(d: Decimal) -> str:
    return f"{float(d):.4g}"


def heat_map(rows: Sequence[Row], metric: str, x_key: str, y_key: str | None,
             *, label: Any = str) -> HeatMap:
    """Mean of ``metric`` for each (x, y) pair of parameter values (successful runs);
    ``label`` turns a parameter value into its axis text."""
    used = [r for r in rows if x_key in r.params and (y_key is None or y_key in r.params)]
    x_axis = _Axis([r.params[x_key] for r in used], label)
    y_axis = _Axis([r.params[y_key] for r in used], label) if y_key is not None else None
    acc: dict[tuple[int, int], list[float]] = defaultdict(list)
    for row in used:
        value = row.metrics.get(metric)
        if row.status == "ok" and value is not None:
            j = y_axis.position(row.params[y_key]) if y_axis is not None and y_key else 0
            acc[(x_axis.position(row.params[x_key]), j)].append(float(value))
    cells = {k: (sum(v) / len(v), len(v)) for k, v in acc.items()}
    return HeatMap(metric, x_key, y_key, x_axis.labels,
                   y_axis.labels if y_axis is not None else [""], cells)


def default_axes(rows: Sequence[Row], keys: Sequence[str]) -> list[str]:
    """The first two parameters that take more than one value."""
    varied = []
    for key in keys:
        seen = {canonical_json(r.params.get(key)) for r in rows if key in r.params}
        if len(seen) > 1:
            varied.append(key)
    return varied[:2]


def color(value: float, lo: float, hi: float, *, lower_is_better: bool = False
          ) -> tuple[int, int, int]:
    """Green for good, red for bad: around zero when the range holds zero (a loss is red, a
    gain green, break-even white), else from the worst value to the best."""
    if lower_is_better:
        value, lo, hi = -value, -hi, -lo
    if lo <= 0 <= hi and lo != hi:
        t = value / hi if value > 0 else (value / -lo if value < 0 else 0.0)  # -1 .. 1
    else:
        t = 0.0 if hi == lo else 2 * (value - lo) / (hi - lo) - 1
    t = max(-1.0, min(1.0, t))
    neutral = (247, 247, 247)
    end = (26, 152, 80) if t >= 0 else (215, 48, 39)
    a = abs(t)
    r, g, b = (round(n + (e - n) * a) for n, e in zip(neutral, end, strict=True))
    return (r, g, b)


def text_color(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"
