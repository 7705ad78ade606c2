"""The "paper vs live" page of a shadow run: where the twin and the live venue part.

One self-contained HTML file beside ``report.html`` (``paper-vs-live.html``): per twin,
the key figures, the confusion matrix of order outcomes, P&L, fills, markouts and
disagreements over time, and the latency distributions of both venues.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from hayate.report.distribution_svg import CdfChart
from hayate.report.page import _CHECK, _CSS, BLUE, GREY, ORANGE, RED
from hayate.report.shadow_data import ShadowData, TwinData
from hayate.report.svg import Chart, Series, downsample

__all__ = ["SHADOW_PAGE", "render_shadow_page"]

SHADOW_PAGE = "paper-vs-live.html"
_OUTCOMES = ("filled", "partly", "not_filled", "rejected", "unknown")
_EXTRA_CSS = """
table.matrix{border-collapse:collapse;background:#fff;margin:8px 0}
table.matrix td,table.matrix th{border:1px solid #e3e3e3;padding:4px 10px;text-align:right;
font-variant-numeric:tabular-nums}table.matrix td.same{background:#e8f4ea}
table.matrix td.off{background:#fbeaea}
"""


def _fmt(v: Any, suffix: str = "") -> str:
    if v is None or v == "":
        return "-"
    return escape(f"{v}{suffix}")


def _q(summary: dict[str, Any] | None, key: str = "p50") -> str:
    if not summary or not summary.get("n"):
        return "-"
    return f"{summary.get(key)} ms (n {summary['n']})"


def _figures(t: TwinData) -> list[tuple[str, str]]:
    f = t.figures
    lat = f.get("latency_ms") or {}
    fr = f.get("fill_ratio") or {}
    pnl = f.get("net_pnl") or {}
    mk = f.get("markout_bps") or {}
    settings = f.get("settings") or {}
    rows = [
        ("live executor / twin", escape(f"{t.venue} / {t.twin}")),
        ("twin's model", escape(", ".join(f"{k} {settings[k]}" for k in
                                          ("queue_model", "queue_power", "partial_fills",
                                           "own_depletion") if k in settings)) or "-"),
        ("orders compared", _fmt(f.get("compared", len(t.orders)))),
        ("same outcome (agreement)", _fmt(f.get("agreement"))),
        ("outcome distance (0 = same mix)", _fmt(f.get("outcome_distance"))),
        ("fill-quantity error", _fmt(f.get("fill_qty_error"))),
        ("fill ratio live / twin", escape(f"{fr.get('live', '-')} / {fr.get('twin', '-')}")),
        ("fill-ratio gap", _fmt(f.get("fill_ratio_gap"))),
        ("fills live / twin", escape(f"{(f.get('fills') or {}).get('live', '-')} / "
                                     f"{(f.get('fills') or {}).get('twin', '-')}")),
        ("net P&L live / twin", escape(f"{pnl.get('live', '-')} / {pnl.get('twin', '-')}")),
        ("send -> ack p50 live / twin", escape(f"{_q((lat.get('ack') or {}).get('live'))} / "
                                               f"{_q((lat.get('ack') or {}).get('twin'))}")),
        ("ack latency KS distance", _fmt(f.get("ack_ks"))),
        ("send -> first fill p50 live / twin",
         escape(f"{_q((f.get('time_to_fill_ms') or {}).get('live'))} / "
                f"{_q((f.get('time_to_fill_ms') or {}).get('twin'))}")),
    ]
    if f.get("failed"):
        rows.append(("twin failed (fed nothing after)", escape(str(f["failed"]))))
    for label, both in mk.items():
        rows.append((f"markout {label} live / twin (bps)",
                     escape(f"{both.get('live') or '-'} / {both.get('twin') or '-'}")))
    return rows


def _matrix(t: TwinData) -> str:
    seen = [o for o in _OUTCOMES if any(o in k for k in t.confusion)]
    if not seen:
        return '<p class="note">no orders</p>'
    head = "".join(f"<th>{escape(o)}</th>" for o in seen)
    rows = [f'<table class="matrix"><tr><th>live \\ twin</th>{head}<th>all</th></tr>']
    for lo in seen:
        cells = []
        for to in seen:
            n = t.confusion.get((lo, to), 0)
            cls = "same" if lo == to else ("off" if n else "")
            cells.append(f'<td class="{cls}">{n:,}</td>')
        total = sum(t.confusion.get((lo, to), 0) for to in seen)
        rows.append(f"<tr><th>{escape(lo)}</th>{''.join(cells)}<td>{total:,}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _cumulative(points: list[tuple[int, float]]) -> tuple[list[int], list[float]]:
    xs, ys, total = [], [], 0.0
    for x, y in points:
        total += y
        xs.append(x)
        ys.append(total)
    return xs, ys


def _time_charts(t: TwinData) -> list[Chart]:
    charts: list[Chart] = []
    c = Chart("Net P&L, live venue and twin (fills by venue time, at the twin's marks)",
              unit="quote", zero_line=True)
    if t.series:
        xs = [s[0] for s in t.series]
        c.add(Series("live", *downsample(xs, [float(s[1]) for s in t.series]), color=BLUE))
        c.add(Series("twin", *downsample(xs, [float(s[2]) for s in t.series]), color=ORANGE))
        c.add(Series("twin - live", *downsample(xs, [float(s[2] - s[1]) for s in t.series]),
                     color=GREY, dash="4 3", width=1))
    charts.append(c)
    c = Chart("Fills (cumulative count)", unit="fills", zero_line=True)
    for kind, color in (("live", BLUE), ("twin", ORANGE)):
        c.add(Series(kind, *downsample(*_cumulative([(f[0], 1.0) for f in t.fills.get(kind, [])])),
                     color=color, kind="step"))
    charts.append(c)
    c = Chart("Markout 1 s after each fill (cumulative, bps x size)", unit="bps x size",
              zero_line=True)
    for kind, color in (("live", BLUE), ("twin", ORANGE)):
        pts = [(f[0], float(f[2] * f[1])) for f in t.fills.get(kind, []) if f[2] is not None]
        c.add(Series(kind, *downsample(*_cumulative(pts)), color=color))
    charts.append(c)
    c = Chart("Orders whose outcome differs (cumulative, by send time)", unit="orders",
              zero_line=True)
    c.add(Series("differ", *downsample(*_cumulative([(o[0], float(o[1] != o[2]))
                                                      for o in t.orders])),
                 color=RED, kind="step"))
    charts.append(c)
    return charts


def _ms(values: list[int]) -> list[float]:
    return [v / 1e6 for v in values]


def _latency_charts(t: TwinData) -> list[CdfChart]:
    charts = []
    for kind, title in (("ack", "Send -> acknowledgement heard"),
                        ("entry", "Send -> the venue's time of the first report (entry)"),
                        ("cancel", "Cancel sent -> the venue's time of the cancel"),
                        ("response", "Venue time -> report heard (response)")):
        c = CdfChart(f"{title}: share of orders within", unit="ms")
        c.add(f"live ({t.venue})", _ms(t.latency.get((t.venue, kind), [])), BLUE)
        c.add(f"twin ({t.twin})", _ms(t.latency.get((t.twin, kind), [])), ORANGE, dash="5 3")
        charts.append(c)
    c = CdfChart("Send -> first fill heard: share of filled orders within", unit="ms")
    c.add("live", [o[3] / 1e6 for o in t.orders if o[3] is not None], BLUE)
    c.add("twin", [o[4] / 1e6 for o in t.orders if o[4] is not None], ORANGE, dash="5 3")
    charts.append(c)
    c = CdfChart("Market data: venue time -> received", unit="ms")
    for i, src in enumerate(t.sources):
        c.add(src, _ms(t.latency.get((src, "market_data"), [])), (BLUE, GREY, RED)[i % 3])
    charts.append(c)
    return charts


def render_shadow_page(data: ShadowData, name: str = "") -> str:
    title = f"Paper vs live · {name or data.run_dir.name}"
    body = [f"<h1>{escape(title)}</h1>",
            f'<div class="sub">{escape(str(data.run_dir))} · journal run {data.run_id} · '
            "each twin is a paper exchange that got a copy of the market data and of every "
            "action sent to the live executor</div>"]
    q = data.queue
    if q.get("degraded"):
        body.append(f'<p class="note"><b>Degraded:</b> copies dropped under load '
                    f"({escape(str(q.get('dropped')))}) or a twin failed: a twin missed part "
                    "of the run.</p>")
    n = 0
    for t in data.twins.values():
        body.append(f"<h2>{escape(t.twin)} (twin of {escape(t.venue)})</h2>")
        rows = _figures(t)
        body.append('<table class="stats">')
        for i in range(0, len(rows), 2):
            cells = "".join(f"<td>{escape(k)}</td><td>{v}</td>" for k, v in rows[i:i + 2])
            body.append(f"<tr>{cells}</tr>")
        body.append("</table><h2>Outcomes: live (rows) against twin (columns)</h2>")
        body.append(_matrix(t))
        body.append("<h2>Over time</h2>")
        for chart in _time_charts(t):
            body.append(chart.svg(f"chart-{n}"))
            n += 1
        body.append("<h2>Latencies</h2>")
        for cdf in _latency_charts(t):
            body.append(cdf.svg(f"chart-{n}"))
            n += 1
    body.append(f'<p class="note">Generated by hayate report at '
                f'{time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}. Outcomes: filled, '
                "partly (filled in part), not_filled, rejected (refused, or a PostOnly "
                "cancelled on arrival), unknown (never reported). Markouts: the twin's mark "
                "after the horizon against the fill price, positive when good for us.</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><meta name=\"viewport\" "
            f"content=\"width=device-width,initial-scale=1\"><style>{_CSS}{_EXTRA_CSS}</style>"
            f"</head><body>{''.join(body)}<script>{_CHECK}</script></body></html>\n")

