"""The end-of-run summary: a table of the run, one labelled column per venue (and their
total when there are several), then every file the run wrote and what to do next."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# (summary key, label), in display order; keys missing from a run are skipped.
RUN_ROWS = [
    ("name", "bot"),
    ("exit_reason", "exit"),
    ("clock", "clock"),
    ("sim_seconds", "simulated seconds"),
    ("wall_seconds", "wall seconds"),
    ("events", "events"),
    ("events_per_second", "events / s"),
    ("actions", "actions"),
    ("risk_blocks", "risk blocks"),
    ("flattened", "flattened at the kill switch"),
]
VENUE_ROWS = [
    ("orders", "orders"),
    ("fills", "fills"),
    ("maker_fills", "maker fills"),
    ("taker_fills", "taker fills"),
    ("fill_ratio", "fills per order"),
    ("volume", "volume"),
    ("fees", "fees"),
    ("realized_pnl", "realized P&L"),
    ("unrealized_pnl", "unrealized P&L"),
    ("net_pnl", "net P&L"),
    ("equity_end", "equity at end"),
    ("max_drawdown", "max drawdown"),
    ("round_trips", "round trips"),
    ("win_rate", "win rate"),
    ("sharpe", "Sharpe (annualized)"),
    ("quote_uptime", "two-sided quote uptime"),
    ("final_position", "final position"),
]
# Kept for callers that list every row.
ROWS = RUN_ROWS[:-2] + VENUE_ROWS + RUN_ROWS[-2:]

MONEY = {"volume", "fees", "realized_pnl", "unrealized_pnl", "net_pnl", "equity_end",
         "max_drawdown"}
PERCENT = {"win_rate", "quote_uptime"}


def fmt_value(key: str, v: Any) -> str:
    """One figure for people: money with separators and 4 decimals, ratios as percentages,
    counts with separators; the exact figures are in summary.json."""
    if v is None or v == "":
        return "-"
    if key in MONEY:
        try:
            return f"{Decimal(str(v)):,.4f}"
        except InvalidOperation:
            return str(v)
    if key in PERCENT and isinstance(v, int | float):
        return f"{v * 100:.1f}%"
    if key == "fill_ratio" and isinstance(v, int | float):
        return f"{v:.3f}"
    if key == "events_per_second" and isinstance(v, float):
        return f"{round(v):,}"  # a rate: fractions of an event are noise
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x}" for k, x in v.items()) or "-"
    return str(v)


def _run_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Run summary", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, label in RUN_ROWS:
        if key in summary and summary[key] not in (None, {}):
            table.add_row(label, fmt_value(key, summary[key]))
    return table


def print_summary(console: Console, summary: dict[str, Any], out_dir: Path | None) -> None:
    venues: dict[str, dict[str, Any]] = summary.get("venues") or {}
    if len(venues) <= 1:
        table = _run_table(summary)
        source = next(iter(venues.values())) if venues else summary
        for key, label in VENUE_ROWS:
            v = source.get(key)
            if v not in (None, {}):
                table.add_row(label, fmt_value(key, v))
        console.print(table)
    else:
        console.print(_run_table(summary))
        totals = summary.get("totals") or {}
        table = Table(title="Venues", title_justify="left")
        table.add_column("", style="bold")
        for vid in venues:
            table.add_column(vid, justify="right")
        table.add_column("total", justify="right", style="bold")
        for key, label in VENUE_ROWS:
            cells = [venues[vid].get(key) for vid in venues]
            if all(c in (None, {}) for c in cells) and totals.get(key) in (None, {}):
                continue
            table.add_row(label, *(fmt_value(key, c) for c in cells),
                          fmt_value(key, totals.get(key)))
        console.print(table)
    if out_dir is not None:
        files = output_files(summary, out_dir)
        console.print(f"results in {out_dir}/: {', '.join(files)}", markup=False)
        console.print(f"next: hayate report {out_dir}   (an HTML report of this run)",
                      markup=False)


def output_files(summary: dict[str, Any], out_dir: Path) -> list[str]:
    """Every file the run left in ``out_dir``, relative to it."""
    names: list[str] = []
    candidates: list[str] = [str(out_dir / "summary.json")]
    journal = (summary.get("journal") or {}).get("path")
    if journal:
        candidates.append(str(journal))
    several = len(summary.get("venues") or {}) > 1
    for vid, v in (summary.get("venues") or {}).items():
        for key in ("fills_file", "equity_file"):
            if v.get(key):
                candidates.append(str(v[key]))
        if several:
            candidates.append(str(out_dir / vid / "summary.json"))
    tape = (summary.get("shadow") or {}).get("tape")
    if tape:
        candidates.append(str(tape))
    for c in candidates:
        p = Path(c)
        if not p.exists():
            continue
        try:
            names.append(str(p.relative_to(out_dir)))
        except ValueError:
            names.append(str(p))
    return names
