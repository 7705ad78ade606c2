"""Everything a report shows, read from a run's output directory.

Sources, each optional: ``journal.sqlite`` (fills with the mid at the time, our quotes and
positions from the P&L snapshots, orders, risk events, sessions), ``summary.json`` and the
paper exchange's ``equity.csv`` (a regular equity curve) and ``fills.jsonl`` (when there is
no journal). Values stay ``Decimal`` until they are drawn.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["FillRow", "ReportError", "RunData", "load_run"]


class ReportError(Exception):
    """The directory holds nothing to report on."""


@dataclass(frozen=True, slots=True)
class FillRow:
    ts: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    liquidity: str
    mid: Decimal | None
    fill_id: str


@dataclass
class RunData:
    run_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    fills: list[FillRow] = field(default_factory=list)
    # per symbol: (ts, position, best_bid, best_ask, bid_quote, ask_quote, net, fees)
    snapshots: dict[str, list[tuple[int, Decimal, Decimal | None, Decimal | None,
                                    Decimal | None, Decimal | None, Decimal, Decimal]]] = \
        field(default_factory=dict)
    equity: list[dict[str, str]] = field(default_factory=list)
    orders: int = 0
    order_statuses: dict[str, int] = field(default_factory=dict)
    risk_events: list[tuple[int, str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def symbols(self) -> list[str]:
        syms = set(self.snapshots) | {f.symbol for f in self.fills}
        return sorted(syms)


def _d(s: Any) -> Decimal | None:
    return None if s is None or s == "" else Decimal(str(s))


def load_run(run_dir: Path, run_id: int | None = None) -> RunData:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir} is not a directory")
    data = RunData(run_dir)
    summary_path = run_dir / "summary.json"
    if summary_path.exists():
        data.summary = json.loads(summary_path.read_text())
        data.sources.append("summary.json")
    journal = run_dir / "journal.sqlite"
    jpath = data.summary.get("journal", {}).get("path")
    if not journal.exists() and jpath and Path(jpath).exists():
        journal = Path(jpath)
    if journal.exists():
        _load_journal(data, journal, run_id)
        data.sources.append(journal.name)
    equity_path = run_dir / str(data.summary.get("equity_file") or "equity.csv")
    if not equity_path.exists():
        equity_path = run_dir / "equity.csv"
    if equity_path.exists():
        with open(equity_path, newline="", encoding="utf-8") as fh:
            data.equity = list(csv.DictReader(fh))
        data.sources.append(equity_path.name)
    if not data.fills and (run_dir / "fills.jsonl").exists():
        for line in (run_dir / "fills.jsonl").read_text().splitlines():
            f = json.loads(line)
            data.fills.append(FillRow(int(f["ts"]), f["symbol"], f["side"], Decimal(f["price"]),
                                      Decimal(f["qty"]), Decimal(f["fee"]), f["liquidity"],
                                      None, f["fill_id"]))
        data.sources.append("fills.jsonl")
    if not data.sources:
        raise ReportError(f"{run_dir} has no summary.json, journal.sqlite, equity.csv or "
                          "fills.jsonl: is it a run's --out directory?")
    return data


def _load_journal(data: RunData, path: Path, run_id: int | None) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if run_id is None:
            row = conn.execute("SELECT max(run_id) FROM runs").fetchone()
            run_id = row[0] if row else None
        if run_id is None:
            return
        data.run_id = run_id
        for sid, started, ended, code, reason, resumed in conn.execute(
                "SELECT session_id, started_at, ended_at, exit_code, exit_reason, resumed"
                " FROM sessions WHERE run_id = ? ORDER BY session_id", (run_id,)):
            data.sessions.append({"session": sid, "started_at": started, "ended_at": ended,
                                  "exit_code": code, "exit_reason": reason,
                                  "resumed": bool(resumed)})
        for ts, recv, sym, side, price, qty, fee, liq, mid, fid in conn.execute(
                "SELECT ts, recv_ts, symbol, side, price, qty, fee, liquidity, mid, fill_id"
                " FROM fills WHERE run_id = ? ORDER BY seq", (run_id,)):
            data.fills.append(FillRow(recv or ts, sym, side, Decimal(price), Decimal(qty),
                                      Decimal(fee), liq, _d(mid), fid))
        for ts, sym, pos, bb, ba, bq, aq, net, fees in conn.execute(
                "SELECT ts, symbol, position, best_bid, best_ask, bid_quote, ask_quote, net, fees"
                " FROM pnl_snapshots WHERE run_id = ? ORDER BY id", (run_id,)):
            data.snapshots.setdefault(sym, []).append(
                (ts, Decimal(pos), _d(bb), _d(ba), _d(bq), _d(aq), Decimal(net), Decimal(fees)))
        for status, n in conn.execute("SELECT status, count(*) FROM orders WHERE run_id = ?"
                                      " GROUP BY status", (run_id,)):
            data.order_statuses[status] = n
            data.orders += n
        data.risk_events = conn.execute(
            "SELECT ts, kind, reason FROM risk_events WHERE run_id = ? ORDER BY id LIMIT 1000",
            (run_id,)).fetchall()
    finally:
        conn.close()
