"""The report page: one self-contained HTML file (inline CSS and SVG, no network needed)."""

from __future__ import annotations

import time
from decimal import Decimal
from html import escape
from typing import Any

from hayate.report.data import RunData
from hayate.report.svg import Chart, Series, downsample

__all__ = ["render_report", "report_stats"]

GREEN, RED, BLUE, GREY, ORANGE, PURPLE = "#1a9850", "#d73027", "#2c6fbb", "#666", "#e08214", "#7b3294"
MAX_MARKERS = 2000
_ZERO = Decimal(0)

_CSS = """
body{font:14px/1.45 -apple-system,system-ui,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1000px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#666;margin-bottom:16px}
.chart{width:100%;height:auto;background:#fff;border:1px solid #ddd;border-radius:4px;
margin:8px 0}
.chart .title{font-weight:600;font-size:13px}.chart .tick{font-size:11px;fill:#555}
.chart .legend{font-size:11px;fill:#333}.chart .grid{stroke:#eee}.chart .zero{stroke:#999;
stroke-dasharray:4 3}.chart .plot{fill:#fff;stroke:#ccc}.chart .empty{fill:#999}
table.stats{border-collapse:collapse;background:#fff;width:100%}
table.stats td,table.stats th{border:1px solid #e3e3e3;padding:4px 10px}
table.venues td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}
table.stats td:nth-child(even){text-align:right;font-variant-numeric:tabular-nums}
.note{color:#666;font-size:12px}
"""

# Checks, in the browser, that every chart drew something (the report test reads it).
_CHECK = """
(function(){var n=0;document.querySelectorAll('svg.chart').forEach(function(s){
var ok=false;s.querySelectorAll('path.series,g.markers path').forEach(function(p){
var b=p.getBBox();if(b.width>0||b.height>0)ok=true;});
s.setAttribute('data-drawn',ok?'1':'0');if(ok)n++;});
document.body.setAttribute('data-charts-drawn',String(n));})();
"""


def _f(d: Decimal | int | None) -> float | None:
    return None if d is None else float(d)


def _money(d: Any, places: int = 2) -> str:
    if d is None or d == "":
        return "-"
    try:
        return f"{Decimal(str(d)):,.{places}f}"
    except Exception:  # a value we cannot format is shown as it is
        return escape(str(d))


def _spread_captured(data: RunData) -> tuple[list[int], list[float], Decimal, Decimal]:
    """Cumulative edge of our fills against the mid at the time (buys below the mid and
    sells above it capture spread), in the quote currency; and the total notional."""
    xs: list[int] = []
    ys: list[float] = []
    total = notional = _ZERO
    for f in data.fills:
        if f.mid is None:
            continue
        edge = (f.mid - f.price) if f.side == "Buy" else (f.price - f.mid)
        total += edge * f.qty
        notional += f.price * f.qty
        xs.append(f.ts)
        ys.append(float(total))
    return xs, ys, total, notional


def report_stats(data: RunData) -> list[tuple[str, str]]:
    s = data.summary
    fills = data.fills
    maker = sum(1 for f in fills if f.liquidity == "maker")
    volume = sum((f.price * f.qty for f in fills), _ZERO)
    fees = sum((f.fee for f in fills), _ZERO)
    _, _, captured, notional = _spread_captured(data)
    rows: list[tuple[str, str]] = [
        ("bot", escape(str(s.get("name", "-")))),
        ("mode / clock", escape(f"{s.get('mode', '-')} / {s.get('clock', '-')}")),
        ("exit", escape(str(s.get("exit_reason", "-")))),
    ]
    if "sim_seconds" in s:
        rows.append(("simulated time", f"{s['sim_seconds']:,} s"))
    if "wall_seconds" in s:
        rows.append(("wall time", f"{s['wall_seconds']:,.1f} s"))
    if "events" in s:
        rows.append(("events (events/s)", f"{s['events']:,} ({s.get('events_per_second', 0):,.0f})"))
    orders = s.get("orders", data.orders)
    rows += [
        ("orders placed", f"{orders:,}" if isinstance(orders, int) else str(orders)),
        ("fills (maker / taker)", f"{len(fills):,} ({maker:,} / {len(fills) - maker:,})"),
    ]
    if isinstance(orders, int) and orders:
        rows.append(("fills per order", f"{len(fills) / orders:.3f}"))
    rows += [
        ("volume (quote)", _money(volume)),
        ("fees", _money(fees, 4)),
        ("spread captured vs mid", _money(captured, 4) + (
            f" ({captured / notional * 10_000:.2f} bps)" if notional else "")),
    ]
    for key, label in (("realized_pnl", "realized P&L"), ("unrealized_pnl", "unrealized P&L"),
                       ("net_pnl", "net P&L"), ("max_drawdown", "max drawdown"),
                       ("equity_start", "equity at start"), ("equity_end", "equity at end")):
        if key in s:
            rows.append((label, _money(s[key], 4)))
    if isinstance(s.get("final_position"), dict):
        rows.append(("final position", escape(", ".join(
            f"{k} {v}" for k, v in s["final_position"].items()) or "-")))
    if data.order_statuses:
        rows.append(("orders by final status", escape(", ".join(
            f"{k} {v:,}" for k, v in sorted(data.order_statuses.items())))))
    if s.get("risk_blocks"):
        rows.append(("risk blocks", escape(", ".join(f"{k}: {v}" for k, v in
                                                     s["risk_blocks"].items()))))
    if data.risk_events:
        rows.append(("risk events", f"{len(data.risk_events):,}"))
    if data.sessions:
        restarts = sum(1 for x in data.sessions if x["resumed"])
        crashed = sum(1 for x in data.sessions if x["ended_at"] is None)
        rows.append(("sessions (restarts, unclean stops)",
                     f"{len(data.sessions)} ({restarts}, {crashed})"))
    return rows


# (figure key, label, how to show it) of each venue, side by side.
VENUE_FIGURES: list[tuple[str, str, str]] = [
    ("orders", "orders placed", "int"),
    ("fills", "fills", "int"),
    ("maker_fills", "maker fills", "int"),
    ("taker_fills", "taker fills", "int"),
    ("fill_ratio", "fills per order", "ratio"),
    ("volume", "volume (quote)", "money2"),
    ("fees", "fees", "money"),
    ("realized_pnl", "realized P&L", "money"),
    ("unrealized_pnl", "unrealized P&L", "money"),
    ("net_pnl", "net P&L", "money"),
    ("equity_start", "equity at start", "money"),
    ("equity_end", "equity at end", "money"),
    ("max_drawdown", "max drawdown", "money"),
    ("max_drawdown_seconds", "max drawdown duration (s)", "num"),
    ("sharpe", "Sharpe (annualized)", "num"),
    ("sortino", "Sortino (annualized)", "num"),
    ("round_trips", "round trips (flat to flat)", "int"),
    ("win_rate", "win rate", "pct"),
    ("avg_win", "average win", "money"),
    ("avg_loss", "average loss", "money"),
    ("quote_uptime", "two-sided quote uptime", "pct"),
    ("time_weighted_inventory", "time-weighted |position|", "dict"),
    ("final_position", "final position", "dict"),
    ("open_orders_at_end", "orders open at the end", "int"),
    ("daily_pnl", "P&L per UTC day", "dict"),
]


def _cell(v: Any, how: str) -> str:
    if v is None or v == "" or v == {}:
        return "-"
    if how == "money":
        return _money(v, 4)
    if how == "money2":
        return _money(v, 2)
    if how == "int" and isinstance(v, int):
        return f"{v:,}"
    if how == "pct" and isinstance(v, int | float):
        return f"{v * 100:.1f}%"
    if how == "ratio" and isinstance(v, int | float):
        return f"{v:.3f}"
    if how == "num" and isinstance(v, int | float):
        return f"{v:,.2f}"
    if how == "dict" and isinstance(v, dict):
        return escape(", ".join(f"{k} {x}" for k, x in v.items()))
    return escape(str(v))


def _markout_rows(venues: dict[str, dict[str, Any]]) -> list[tuple[str, list[str]]]:
    rows: list[tuple[str, list[str]]] = []
    marks: list[dict[str, Any]] = [v.get("markouts") or {} for v in venues.values()]

    def bps(x: Any) -> str:
        return "-" if x is None else f"{x:+.3f} bps"

    rows.append(("spread captured at the fill", [
        f"{_money(m.get('spread_captured'), 4)} ({bps(m.get('spread_captured_bps'))})"
        if m else "-" for m in marks]))
    for h in ("1s", "10s", "60s"):
        rows.append((f"markout {h} after the fill", [
            f"{_money(m[h].get('markout'), 4)} ({bps(m[h].get('markout_bps'))})"
            if m.get(h) else "-" for m in marks]))
    return rows


def venue_table(data: RunData) -> str:
    """Every venue's figures in one table, a column each (the comparison of mm-compare)."""
    venues = data.venues
    if not venues:
        return ""
    head = "".join(f"<th>{escape(v)}</th>" for v in venues)
    out = ['<table class="stats venues"><tr><th></th>' + head + "</tr>"]
    for key, label, how in VENUE_FIGURES:
        cells = [v.get(key) for v in venues.values()]
        if all(c in (None, "", {}) for c in cells):
            continue
        out.append(f"<tr><td>{escape(label)}</td>"
                   + "".join(f"<td>{_cell(c, how)}</td>" for c in cells) + "</tr>")
    for label, texts in _markout_rows(venues):
        out.append(f"<tr><td>{escape(label)}</td>"
                   + "".join(f"<td>{t}</td>" for t in texts) + "</tr>")
    out.append("</table>")
    sampling = next((v.get("stats_sampling") for v in venues.values()
                     if v.get("stats_sampling")), None)
    note = ("Markout: side × (mid h seconds after the fill − fill price) × qty, summed; "
            "spread captured minus the markout is what adverse selection took. A round trip "
            "runs from flat to flat, fees included.")
    if sampling:
        note += f" Sharpe and Sortino: {sampling}."
    out.append(f'<div class="note">{escape(note)}</div>')
    return "".join(out)


def _charts(data: RunData) -> list[Chart]:
    charts: list[Chart] = []
    if len(data.equity_by_venue) > 1:
        colors = [BLUE, GREEN, RED, ORANGE, PURPLE, GREY]
        c = Chart("Net P&L by venue", unit="quote", zero_line=True)
        for i, (vid, eq_rows) in enumerate(data.equity_by_venue.items()):
            c.add(Series(vid, *downsample([int(r["ts"]) for r in eq_rows],
                                          [float(r["net_pnl"]) for r in eq_rows]),
                         color=colors[i % len(colors)]))
        charts.append(c)
        c = Chart("Equity by venue", unit="quote")
        for i, (vid, eq_rows) in enumerate(data.equity_by_venue.items()):
            rows_eq = [r for r in eq_rows if r.get("equity")]
            c.add(Series(vid, *downsample([int(r["ts"]) for r in rows_eq],
                                          [float(r["equity"]) for r in rows_eq]),
                         color=colors[i % len(colors)]))
        charts.append(c)
    # The paper exchange rewrites equity.csv at each start: after a restart the journal's
    # snapshots are the whole story.
    eq = data.equity if len(data.sessions) <= 1 or not data.snapshots else []
    several = len(data.equity_by_venue) > 1
    if several:
        eq = []  # each venue's curve is in the charts by venue, above and below
    if eq:
        xs = [int(r["ts"]) for r in eq]
        if all(r.get("equity") for r in eq):  # a venue that never told its balance has none
            c = Chart("Equity", unit="quote")
            c.add(Series("equity", *downsample(xs, [float(r["equity"]) for r in eq]),
                         color=BLUE))
            charts.append(c)
        c = Chart("P&L", unit="quote", zero_line=True)
        c.add(Series("net", *downsample(xs, [float(r["net_pnl"]) for r in eq]), color=BLUE))
        c.add(Series("realized", *downsample(xs, [float(r["realized_pnl"]) for r in eq]),
                     color=GREEN, width=1.2))
        c.add(Series("unrealized", *downsample(xs, [float(r["unrealized_pnl"]) for r in eq]),
                     color=ORANGE, width=1))
        charts.append(c)
    elif data.snapshots and not several:
        c = Chart("P&L (from the journal's snapshots)", unit="quote", zero_line=True)
        for sym, rows in data.snapshots.items():
            c.add(Series(f"net {sym}", *downsample([r[0] for r in rows],
                                                   [float(r[6]) for r in rows]), color=BLUE))
        charts.append(c)
    for sym in data.symbols[:4]:
        c = Chart(f"Position · {sym}", unit="base", zero_line=True)
        snaps = data.snapshots.get(sym)
        col = f"{sym}_position"
        if several:
            colors = [BLUE, GREEN, RED, ORANGE, PURPLE, GREY]
            for i, (vid, v_rows) in enumerate(data.equity_by_venue.items()):
                if v_rows and col in v_rows[0]:
                    c.add(Series(vid, *downsample([int(r["ts"]) for r in v_rows],
                                                  [float(r[col]) for r in v_rows]),
                                 color=colors[i % len(colors)], kind="step"))
        elif eq and col in eq[0]:
            c.add(Series("position", *downsample([int(r["ts"]) for r in eq],
                                                 [float(r[col]) for r in eq]),
                         color=PURPLE, kind="step"))
        elif snaps:
            c.add(Series("position", *downsample([r[0] for r in snaps],
                                                 [float(r[1]) for r in snaps]),
                         color=PURPLE, kind="step"))
        charts.append(c)
        charts.append(_price_chart(data, sym))
    xs, ys, _, _ = _spread_captured(data)
    c = Chart("Spread captured against the mid (cumulative)", unit="quote", zero_line=True)
    c.add(Series("captured", *downsample(xs, ys), color=GREEN))
    charts.append(c)
    c = Chart("Fees paid (cumulative)", unit="quote", zero_line=True)
    for liq, color in (("maker", BLUE), ("taker", RED)):
        total = _ZERO
        fx: list[int] = []
        fy: list[float] = []
        for f in data.fills:
            if f.liquidity == liq:
                total += f.fee
                fx.append(f.ts)
                fy.append(float(total))
        c.add(Series(liq, *downsample(fx, fy), color=color))
    charts.append(c)
    return charts


def _price_chart(data: RunData, sym: str) -> Chart:
    c = Chart(f"Price, our quotes and fills · {sym}", unit="price")
    snaps = data.snapshots.get(sym) or []
    mids = [(r[0], (r[2] + r[3]) / 2) for r in snaps if r[2] is not None and r[3] is not None]
    if mids:
        c.add(Series("mid", *downsample([m[0] for m in mids], [float(m[1]) for m in mids]),
                     color=GREY, width=1.2))
    elif data.equity and f"{sym}_mark" in data.equity[0]:
        rows = [r for r in data.equity if r[f"{sym}_mark"]]  # no journal: the venue's marks
        c.add(Series("mark", *downsample([int(r["ts"]) for r in rows],
                                         [float(r[f"{sym}_mark"]) for r in rows]),
                     color=GREY, width=1.2))
    for idx, label, color in ((4, "our bid", GREEN), (5, "our ask", RED)):
        pts = [(r[0], _f(r[idx])) for r in snaps]
        if any(p[1] is not None for p in pts):
            c.add(Series(label, [p[0] for p in pts], [p[1] for p in pts],  # type: ignore[misc]
                         color=color, kind="step", dash="4 3", width=1))
    fills = [f for f in data.fills if f.symbol == sym]
    stride = max(1, len(fills) // MAX_MARKERS)
    shown = fills[::stride]
    for side, kind, color in (("Buy", "markers-up", GREEN), ("Sell", "markers-down", RED)):
        sel = [f for f in shown if f.side == side]
        c.add(Series(f"{side.lower()} fills", [f.ts for f in sel], [float(f.price) for f in sel],
                     color=color, kind=kind,
                     titles=[f"{side} {f.qty} @ {f.price} ({f.liquidity}, fee {f.fee})"
                             for f in sel]))
    if stride > 1:
        c.note = f"every {stride}th fill shown ({len(fills):,} in all)"
    return c


def render_report(data: RunData) -> str:
    s = data.summary
    title = f"Hayate run report · {s.get('name', data.run_dir.name)}"
    when = s.get("started_at", "")
    charts = _charts(data)
    body = [f"<h1>{escape(title)}</h1>",
            f'<div class="sub">{escape(str(data.run_dir))} · {escape(str(when))} · sources: '
            f'{escape(", ".join(data.sources))}'
            + (f" · journal run {data.run_id}" if data.run_id is not None else "") + "</div>",
            "<h2>Statistics</h2>", '<table class="stats">']
    stats = report_stats(data)
    for i in range(0, len(stats), 2):
        cells = "".join(f"<td>{escape(k)}</td><td>{v}</td>" for k, v in stats[i:i + 2])
        body.append(f"<tr>{cells}</tr>")
    body.append("</table>")
    for note in data.notes:
        body.append(f'<p class="note">{escape(note)}</p>')
    if data.venues:
        body.append("<h2>" + ("Venues side by side" if len(data.venues) > 1 else "Trading")
                    + "</h2>")
        body.append(venue_table(data))
    body.append("<h2>Charts</h2>")
    for i, chart in enumerate(charts):
        body.append(chart.svg(f"chart-{i}"))
        if chart.note:
            body.append(f'<div class="note">{escape(chart.note)}</div>')
    body.append(f'<p class="note">Generated by hayate report at '
                f'{time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}. Times are UTC; '
                "prices and P&L are in the quote currency.</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><meta name=\"viewport\" "
            f"content=\"width=device-width,initial-scale=1\"><style>{_CSS}</style></head>"
            f"<body>{''.join(body)}<script>{_CHECK}</script></body></html>\n")
