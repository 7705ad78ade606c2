"""A heat map as one self-contained SVG file (no scripts, fonts or styles from elsewhere):
opens in any browser, attaches to a pull request, prints."""

from __future__ import annotations

from html import escape

from hayate.sweep.report import HeatMap, color, text_color

__all__ = ["format_value", "heat_map_svg"]

CELL_W = 96
CELL_H = 34
CHAR_W = 7.2  # average width of a 12 px sans-serif character


def format_value(value: float) -> str:
    if value != 0 and abs(value) < 0.01:
        return f"{value:.2e}"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def heat_map_svg(hm: HeatMap, *, title: str, lower_is_better: bool = False) -> str:
    xs, ys = hm.xs, hm.ys
    left = 40 + max([len(y) for y in ys] + [4]) * CHAR_W
    top = 92
    bounds = hm.bounds
    subtitle = _subtitle(hm)
    note = ("green: better, red: worse" + (" (lower is better)" if lower_is_better else "")
            + (f"; range {format_value(bounds[0])} to {format_value(bounds[1])}" if bounds else ""))
    width = int(left + max(CELL_W * len(xs), (max(len(subtitle), len(note)) + 2) * CHAR_W) + 30)
    height = int(top + CELL_H * len(ys) + 56)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<text x="{left}" y="42" fill="#555555">{escape(subtitle)}</text>',
        f'<text x="{left + CELL_W * len(xs) / 2}" y="{top - 24}" text-anchor="middle" '
        f'font-weight="bold">{escape(hm.x_key)}</text>',
    ]
    for i, x in enumerate(xs):
        cx = left + CELL_W * i + CELL_W / 2
        parts.append(f'<text x="{cx}" y="{top - 8}" text-anchor="middle">{escape(x)}</text>')
    if hm.y_key is not None:
        cy = top + CELL_H * len(ys) / 2
        parts.append(f'<text x="14" y="{cy}" text-anchor="middle" font-weight="bold" '
                     f'transform="rotate(-90 14 {cy})">{escape(hm.y_key)}</text>')
    for j, y_text in enumerate(ys):
        ry = top + CELL_H * j
        parts.append(f'<text x="{left - 8}" y="{ry + CELL_H / 2 + 4}" '
                     f'text-anchor="end">{escape(y_text)}</text>')
        for i in range(len(xs)):
            rx = left + CELL_W * i
            found = hm.cell(i, j)
            if found is None or bounds is None:
                fill, ink, text, tip = "#dddddd", "#777777", "–", "no successful run"
            else:
                value, runs = found
                rgb = color(value, *bounds, lower_is_better=lower_is_better)
                fill = "#{:02x}{:02x}{:02x}".format(*rgb)
                ink = text_color(rgb)
                text = format_value(value)
                tip = f"{hm.metric} {value:.6g} (mean of {runs} run{'s' if runs != 1 else ''})"
            parts.append(
                f'<rect x="{rx}" y="{ry}" width="{CELL_W}" height="{CELL_H}" fill="{fill}" '
                f'stroke="#ffffff" stroke-width="2"><title>{escape(tip)}</title></rect>')
            parts.append(f'<text x="{rx + CELL_W / 2}" y="{ry + CELL_H / 2 + 4}" '
                         f'text-anchor="middle" fill="{ink}">{escape(text)}</text>')
    foot = top + CELL_H * len(ys) + 26
    parts.append(f'<text x="{left}" y="{foot}" fill="#555555">{escape(note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _subtitle(hm: HeatMap) -> str:
    runs = sorted({n for _, n in hm.cells.values()})
    per = (f"{runs[0]}" if len(runs) == 1 else f"{runs[0]}-{runs[-1]}") if runs else "0"
    return f"mean {hm.metric} per cell, over {per} run(s) each (other parameters and datasets)"
