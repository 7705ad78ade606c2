"""A distribution chart in SVG: the cumulative share of observations up to each value.

Latencies are compared best as distribution functions: two venues with the same median and
different tails show it at once. The x axis is the value (milliseconds), clipped at the
largest 99th percentile of the series so a few outliers do not squash the rest; the y
axis is the share of observations, 0 to 1. Same look and self-check hooks as
:mod:`hayate.report.svg` (``svg.chart``, ``path.series``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from hayate.report.svg import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, _fmt, _ticks

__all__ = ["CdfChart"]

_POINTS = 400


@dataclass
class _Cdf:
    label: str
    values: list[float]
    color: str
    dash: str = ""


@dataclass
class CdfChart:
    title: str
    unit: str = "ms"
    series: list[_Cdf] = field(default_factory=list)
    note: str = ""

    def add(self, label: str, values: Sequence[float], color: str, dash: str = "") -> None:
        vals = sorted(v for v in values if math.isfinite(v))
        if vals:
            self.series.append(_Cdf(label, vals, color, dash))

    def svg(self, chart_id: str) -> str:
        head = (f'<svg class="chart" id="{chart_id}" data-series="{len(self.series)}" '
                f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
                f'role="img" aria-label="{escape(self.title)}">'
                f'<text x="{LEFT}" y="18" class="title">{escape(self.title)}</text>')
        if not self.series:
            return head + (f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" class="empty" '
                           'text-anchor="middle">no data</text></svg>')
        x0 = min(0.0, min(s.values[0] for s in self.series))
        x1 = max(s.values[min(len(s.values) - 1, math.ceil(0.99 * (len(s.values) - 1)))]
                 for s in self.series)
        if x1 <= x0:
            x1 = x0 + 1.0
        pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

        def sx(x: float) -> float:
            return LEFT + (min(max(x, x0), x1) - x0) / (x1 - x0) * pw

        def sy(y: float) -> float:
            return TOP + (1.0 - y) * ph

        out = [head, f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" class="plot"/>']
        for v in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = sy(v)
            out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                       'class="grid"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" '
                       f'text-anchor="end">{v:g}</text>')
        for v in _ticks(x0, x1, 8):
            x = sx(v)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + ph}" class="grid"/>')
            out.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" class="tick" '
                       f'text-anchor="middle">{_fmt(v)}</text>')
        out.append(f'<text x="{LEFT + pw}" y="{TOP + ph + 30}" class="tick" '
                   f'text-anchor="end">{escape(self.unit)}</text>')
        for s in self.series:
            n = len(s.values)
            step = max(1, n // _POINTS)
            d = [f"M{sx(s.values[0]):.1f},{sy(0.0):.1f}"]
            for i in range(0, n, step):
                j = min(n - 1, i + step - 1)
                d.append(f"H{sx(s.values[j]):.1f}V{sy((j + 1) / n):.1f}")
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            out.append(f'<path class="series" data-label="{escape(s.label)}" d="{"".join(d)}" '
                       f'fill="none" stroke="{s.color}" stroke-width="1.6"{dash}/>')
        lx = LEFT + pw
        for s in reversed(self.series):
            lx -= 14 + 7 * len(s.label) + 18
            out.append(f'<line x1="{lx}" x2="{lx + 14}" y1="14" y2="14" stroke="{s.color}" '
                       f'stroke-width="2.5"/><text x="{lx + 18}" y="18" class="legend">'
                       f"{escape(s.label)}</text>")
        out.append("</svg>")
        return "".join(out)
