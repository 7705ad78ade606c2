"""The rich panel of ``hayate run`` on a terminal (rendered by the CLI's console)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from hayate.clock import format_ns
from hayate.status.monitor import StatusSnapshot, _duration, _fmt

__all__ = ["render_panel"]


def render_panel(s: StatusSnapshot) -> Any:
    head = Table.grid(padding=(0, 2))
    for _ in range(4):
        head.add_column()
    mode_style = "bold red" if s.mode == "LIVE" else "bold green"
    risk_style = "green" if s.risk_mode == "normal" else "bold red"
    lat = "-"
    if s.latency_p50_us is not None:
        lat = f"p50 {s.latency_p50_us:,.0f} us  p99 {s.latency_p99_us:,.0f} us"
    head.add_row(Text(s.mode, style=mode_style), f"up {_duration(s.uptime)}",
                 f"{s.events:,} events", f"{s.events_per_second:,.0f} events/s")
    head.add_row(Text(f"risk {s.risk_mode}" + (f" ({s.risk_reason})" if s.risk_reason else ""),
                      style=risk_style),
                 f"trips {s.risk_trips}", f"tick-to-trade {lat}",
                 f"sim {format_ns(s.sim_time)}" if s.sim_time else s.clock)
    table = Table(expand=True, show_edge=False)
    for col in ("symbol", "bid", "ask", "our bid", "our ask", "orders", "position",
                "realized", "unrealized", "fees", "net P&L"):
        table.add_column(col, justify="left" if col == "symbol" else "right")
    for f in s.symbols:
        net_style = "green" if f.net >= 0 else "red"
        table.add_row(f.symbol, _fmt(f.best_bid, 4), _fmt(f.best_ask, 4), _fmt(f.bid_quote, 4),
                      _fmt(f.ask_quote, 4), str(f.open_orders),
                      str(f.position.normalize()) if f.position else "0", _fmt(f.realized, 4),
                      _fmt(f.unrealized, 4), _fmt(f.fees, 4),
                      Text(_fmt(f.net, 4), style=net_style))
    parts: list[Any] = [head, table]
    if s.progress is not None:
        done, total = s.progress
        bar = Table.grid(padding=(0, 1))
        bar.add_column(ratio=1)
        bar.add_column()
        bar.add_row(ProgressBar(total=total, completed=done),
                    f"{100 * done / total:5.1f}%  eta {_duration(s.eta)}")
        parts.append(bar)
    return Panel(Group(*parts), title=f"hayate · {s.name}", title_align="left")
