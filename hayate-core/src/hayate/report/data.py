"""Everything a report shows, read from a run's output directory.

Sources, each optional: ``journal.sqlite`` (fills with the mid at the time, our quotes and
positions from the P&L snapshots, orders, risk events, sessions), ``summary.json`` and each
venue's ``equity.csv`` (a regular equity curve) and ``fills.jsonl`` (when there is no
journal): in the directory itself for a run with one executor, in ``DIR/<executor id>/``
for several. ``--run N`` reports journal run N alone: its own summary (stored in the
journal when its session ended) and its own fills; the files beside the journal belong to
the directory's last run and are used only for it. Values stay ``Decimal`` until drawn.
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
    source: str = ""  # the executor that reported it


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
    venues: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> its figures
    equity_by_venue: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except ValueError as e:  # JSON or UTF-8
            raise ReportError(f"{summary_path} is not readable JSON ({e})") from None
        if not isinstance(summary, dict):
            raise ReportError(f"{summary_path} does not hold a run summary (a JSON object)")
        data.summary = summary
        data.sources.append("summary.json")
    journal = run_dir / "journal.sqlite"
    jpath = (data.summary.get("journal") or {}).get("path")
    if not journal.exists() and jpath and Path(jpath).exists():
        journal = Path(jpath)
    latest = True
    if journal.exists():
        try:
            latest = _load_journal(data, journal, run_id)
        except sqlite3.DatabaseError as e:
            raise ReportError(f"{journal} is not a readable journal ({e})") from None
        data.sources.append(journal.name)
    elif run_id is not None:
        raise ReportError(f"{run_dir} has no journal.sqlite: --run needs one")
    data.venues = dict(data.summary.get("venues") or {})
    if latest:
        _load_files(data)
    if not data.sources:
        raise ReportError(f"{run_dir} has no summary.json, journal.sqlite, equity.csv or "
                          "fills.jsonl: is it a run's --out directory?")
    return data


def _read_equity(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _load_files(data: RunData) -> None:
    """Each venue's equity.csv (and fills.jsonl without a journal) of the latest run."""
    run_dir = data.run_dir
    venue_ids = list(data.venues) or [""]
    for vid in venue_ids:
        folder = run_dir / vid if vid and len(venue_ids) > 1 else run_dir
        eq = folder / "equity.csv"
        if eq.exists():
            data.equity_by_venue[vid] = _read_equity(eq)
            data.sources.append(str(eq.relative_to(run_dir)))
        fl = folder / "fills.jsonl"
        if not any(f.source == vid for f in data.fills) and fl.exists() and not any(
                s.endswith("journal.sqlite") for s in data.sources):
            for line in fl.read_text().splitlines():
                f = json.loads(line)
                data.fills.append(FillRow(int(f["ts"]), f["symbol"], f["side"],
                                          Decimal(f["price"]), Decimal(f["qty"]),
                                          Decimal(f["fee"]), f["liquidity"], None, f["fill_id"],
                                          vid))
            data.sources.append(str(fl.relative_to(run_dir)))
    if data.equity_by_venue:
        data.equity = next(iter(data.equity_by_venue.values()))


def _load_journal(data: RunData, path: Path, run_id: int | None) -> bool:
    """Run ``run_id`` (default the last) of the journal; True when it is the last run (the
    directory's other files are then its own)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ids = [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY run_id")]
        last = ids[-1] if ids else None
        if run_id is None:
            run_id = last
        elif run_id not in ids:
            known = f"runs {ids[0]} to {ids[-1]}" if ids else "no run"
            raise ReportError(f"{path} has no run {run_id} (it holds {known})")
        if run_id is None:
            return True
        data.run_id = run_id
        if run_id != last or not data.summary:
            _summary_of_run(data, conn, run_id)
        for sid, started, ended, code, reason, resumed in conn.execute(
                "SELECT session_id, started_at, ended_at, exit_code, exit_reason, resumed"
                " FROM sessions WHERE run_id = ? ORDER BY session_id", (run_id,)):
            data.sessions.append({"session": sid, "started_at": started, "ended_at": ended,
                                  "exit_code": code, "exit_reason": reason,
                                  "resumed": bool(resumed)})
        for ts, recv, sym, side, price, qty, fee, liq, mid, fid, src in conn.execute(
                "SELECT ts, recv_ts, symbol, side, price, qty, fee, liquidity, mid, fill_id,"
                " source FROM fills WHERE run_id = ? ORDER BY seq", (run_id,)):
            data.fills.append(FillRow(recv or ts, sym, side, Decimal(price), Decimal(qty),
                                      Decimal(fee), liq, _d(mid), fid, src or ""))
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
    return run_id == last


def _summary_of_run(data: RunData, conn: sqlite3.Connection, run_id: int) -> None:
    """The summary run ``run_id`` stored when its last session ended; a run whose last
    session never ended (killed, crashed) has none: only what the journal holds is shown."""
    name, mode, clock = conn.execute("SELECT name, mode, clock FROM runs WHERE run_id = ?",
                                     (run_id,)).fetchone()
    row = conn.execute("SELECT summary, ended_at FROM sessions WHERE run_id = ?"
                       " ORDER BY session_id DESC LIMIT 1", (run_id,)).fetchone()
    if row is not None and row[0]:
        data.summary = json.loads(row[0])
        return
    data.summary = {"name": name, "mode": mode, "clock": clock,
                    "exit_reason": "did not stop cleanly (killed or crashed): no summary"}
    data.notes.append(f"run {run_id} did not stop cleanly: its figures come from the journal "
                      "alone (fills, orders), with no P&L summary")
