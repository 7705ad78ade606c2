"""Small SVG charts drawn in Python: time series, steps and markers, with axes and a legend.

Why not a JavaScript chart library: the report must open with no network, so a library
would have to be inlined (hundreds of kilobytes) into every report, and its output could
only be checked in a browser. SVG written here is small, deterministic (same run, same
bytes) and readable in any browser, viewer or editor; hovering a marker shows its
``<title>``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

__all__ = ["Chart", "Series", "downsample"]

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 30, 34


@dataclass
class Series:
    label: str
    xs: Sequence[int]  # ns
    ys: Sequence[float]
    color: str
    kind: str = "line"  # line | step | markers-up | markers-down
    dash: str = ""
    titles: Sequence[str] | None = None  # per point (markers)
    width: float = 1.5


@dataclass
class Chart:
    title: str
    unit: str = ""
    series: list[Series] = field(default_factory=list)
    zero_line: bool = False
    note: str = ""

    def add(self, s: Series) -> None:
        if len(s.xs):
            self.series.append(s)

    def svg(self, chart_id: str) -> str:
        pts = [(x, y) for s in self.series for x, y in zip(s.xs, s.ys, strict=False)
               if y is not None and math.isfinite(y)]
        head = (f'<svg class="chart" id="{chart_id}" data-series="{len(self.series)}" '
                f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
                f'role="img" aria-label="{escape(self.title)}">'
                f'<text x="{LEFT}" y="18" class="title">{escape(self.title)}</text>')
        if not pts:
            return head + (f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" class="empty" '
                           'text-anchor="middle">no data</text></svg>')
        x0 = min(p[0] for p in pts)
        x1 = max(p[0] for p in pts)
        y0 = min(p[1] for p in pts)
        y1 = max(p[1] for p in pts)
        if self.zero_line:
            y0, y1 = min(y0, 0.0), max(y1, 0.0)
        if x1 == x0:
            x1 = x0 + 1
        if y1 == y0:
            pad = abs(y0) * 0.01 or 1.0
            y0, y1 = y0 - pad, y1 + pad
        pad = (y1 - y0) * 0.05
        y0, y1 = y0 - pad, y1 + pad
        pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

        def sx(x: float) -> float:
            return LEFT + (x - x0) / (x1 - x0) * pw

        def sy(y: float) -> float:
            return TOP + (y1 - y) / (y1 - y0) * ph

        out = [head, f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" class="plot"/>']
        for v in _ticks(y0, y1, 5):
            y = sy(v)
            out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                       'class="grid"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" '
                       f'text-anchor="end">{_fmt(v)}</text>')
        span = (x1 - x0) / 1e9
        for v in _ticks(x0 / 1e9, x1 / 1e9, 7):
            x = sx(v * 1e9)
            if LEFT - 1 <= x <= LEFT + pw + 1:
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + ph}" '
                           'class="grid"/>')
                out.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" class="tick" '
                           f'text-anchor="middle">{_time(v, span)}</text>')
        if self.zero_line and y0 < 0 < y1:
            out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" '
                       'class="zero"/>')
        if self.unit:
            out.append(f'<text x="{LEFT - 6}" y="{TOP - 8}" class="tick" '
                       f'text-anchor="end">{escape(self.unit)}</text>')
        for s in self.series:
            out.append(_draw(s, sx, sy))
        lx = LEFT + pw
        for s in reversed(self.series):
            text = escape(s.label)
            lx -= 14 + 7 * len(s.label) + 18
            marker = (f'<line x1="{lx}" x2="{lx + 14}" y1="14" y2="14" stroke="{s.color}" '
                      f'stroke-width="2.5"{_dash(s)}/>' if s.kind in ("line", "step") else
                      f'<path d="{_tri(lx + 7, 14, s.kind == "markers-up")}" fill="{s.color}"/>')
            out.append(marker + f'<text x="{lx + 18}" y="18" class="legend">{text}</text>')
        out.append("</svg>")
        return "".join(out)


def _dash(s: Series) -> str:
    return f' stroke-dasharray="{s.dash}"' if s.dash else ""


def _tri(x: float, y: float, up: bool, r: float = 4.5) -> str:
    if up:
        return f"M{x:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}L{x - r:.1f},{y + r:.1f}Z"
    return f"M{x:.1f},{y + r:.1f}L{x + r:.1f},{y - r:.1f}L{x - r:.1f},{y - r:.1f}Z"


def _draw(s: Series, sx: object, sy: object) -> str:
    fx = sx
    fy = sy
    if s.kind.startswith("markers"):
        up = s.kind == "markers-up"
        r = 4.5 if len(s.xs) <= 200 else 3.0  # many fills: smaller marks, the price shows
        parts = [f'<g class="markers" fill="{s.color}" data-label="{escape(s.label)}">']
        for i, (x, y) in enumerate(zip(s.xs, s.ys, strict=False)):
            title = f"<title>{escape(s.titles[i])}</title>" if s.titles else ""
            parts.append(f'<path d="{_tri(fx(x), fy(y), up, r)}">{title}</path>')  # type: ignore[operator]
        parts.append("</g>")
        return "".join(parts)
    d: list[str] = []
    prev_y: float | None = None
    pen_up = True
    for x, y in zip(s.xs, s.ys, strict=False):
        if y is None or not math.isfinite(y):
            pen_up = True
            continue
        X, Y = fx(x), fy(y)  # type: ignore[operator]
        if pen_up:
            d.append(f"M{X:.1f},{Y:.1f}")
            pen_up = False
        elif s.kind == "step" and prev_y is not None:
            d.append(f"H{X:.1f}V{Y:.1f}")
        else:
            d.append(f"L{X:.1f},{Y:.1f}")
        prev_y = Y
    return (f'<path class="series" data-label="{escape(s.label)}" d="{"".join(d)}" fill="none" '
            f'stroke="{s.color}" stroke-width="{s.width}"{_dash(s)}/>')


def _ticks(lo: float, hi: float, n: int) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out = []
    v = start
    while v <= hi + step * 1e-9:
        out.append(round(v, 12))
        v += step
    return out


def _fmt(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:,.1f}"
    if a >= 1 or v == 0:
        return f"{v:.2f}".rstrip("0").rstrip(".") if "." in f"{v:.2f}" else f"{v:.2f}"
    return f"{v:.4g}"


def _time(sec: float, span: float) -> str:
    t = time.gmtime(sec)
    if span > 2 * 86400:
        return time.strftime("%m-%d %H:%M", t)
    if span > 300:
        return time.strftime("%H:%M", t)
    return time.strftime("%H:%M:%S", t)


def downsample(xs: Sequence[int], ys: Sequence[float], limit: int = 1500
               ) -> tuple[list[int], list[float]]:
    """At most ``limit`` points, keeping each bucket's min and max (spikes stay visible)."""
    n = len(xs)
    if n <= limit:
        return list(xs), list(ys)
    per = math.ceil(n / (limit / 2))
    ox: list[int] = []
    oy: list[float] = []
    for i in range(0, n, per):
        bx = xs[i:i + per]
        by = ys[i:i + per]
        lo = min(range(len(by)), key=by.__getitem__)
        hi = max(range(len(by)), key=by.__getitem__)
        for j in sorted({lo, hi}):
            ox.append(bx[j])
            oy.append(by[j])
    return ox, oy
