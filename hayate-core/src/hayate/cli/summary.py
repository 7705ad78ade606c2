"""The end-of-run summary table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# (summary key, label), in display order; keys missing from a run are skipped.
ROWS = [
    ("name", "bot"),
    ("exit_reason", "exit"),
    ("clock", "clock"),
    ("sim_seconds", "simulated seconds"),
    ("wall_seconds", "wall seconds"),
    ("events", "events"),
    ("events_per_second", "events / s"),
    ("actions", "actions"),
    ("orders", "orders"),
    ("fills", "fills"),
    ("maker_fills", "maker fills"),
    ("taker_fills", "taker fills"),
    ("volume", "volume"),
    ("fees", "fees"),
    ("realized_pnl", "realized P&L"),
    ("unrealized_pnl", "unrealized P&L"),
    ("net_pnl", "net P&L"),
    ("max_drawdown", "max drawdown"),
    ("final_position", "final position"),
    ("risk_blocks", "risk blocks"),
]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x}" for k, x in v.items()) or "-"
    return str(v)


def print_summary(console: Console, summary: dict[str, Any], out_dir: Path | None) -> None:
    table = Table(title="Run summary", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, label in ROWS:
        if key in summary and summary[key] not in (None, {}):
            v = summary[key]
            if key == "events_per_second" and isinstance(v, float):
                v = round(v)  # a rate: fractions of an event are noise
            table.add_row(label, _fmt(v))
    console.print(table)
    if out_dir is not None:
        console.print(f"results in {out_dir}/ (summary.json)", markup=False)
