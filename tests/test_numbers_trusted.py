"""Numbers a trader can trust from every run, checked on the shipped examples as a user
runs them: several venues in one spec, the risk engine's P&L against the ledger's, the
risk ``flatten`` action, and an interrupted demo."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest


def hayate(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def _sets(*pairs: str) -> list[str]:
    return [x for p in pairs for x in ("--set", p)]


@pytest.mark.slow
def test_mm_compare_writes_each_venue_apart_and_reports_them_side_by_side(
        repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    venues = ["v_simple", "v_dynamic", "v_avellaneda"]
    r = hayate("run", str(repo_root / "examples/mm-compare.toml"), "--out", str(out),
               *_sets(*(f"collectors.m_{v[2:]}.duration=15m" for v in venues)))
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    assert list(s["venues"]) == venues
    fill_ids: set[str] = set()
    for v in venues:
        fig = s["venues"][v]
        folder = out / v
        fills = [json.loads(x) for x in (folder / "fills.jsonl").read_text().splitlines()]
        assert len(fills) == fig["fills"]
        ids = {f["fill_id"] for f in fills}
        assert not ids & fill_ids  # each venue's fills in its own file
        fill_ids |= ids
        with open(folder / "equity.csv", newline="") as fh:
            rows = list(csv.reader(fh))
        assert len({len(row) for row in rows}) == 1 and len(rows) > 100  # one shape
        assert json.loads((folder / "summary.json").read_text())["net_pnl"] == fig["net_pnl"]
        net = Decimal(fig["net_pnl"])
        assert Decimal(fig["equity_end"]) == Decimal(fig["equity_start"]) + net
        assert net == (Decimal(fig["realized_pnl"]) + Decimal(fig["unrealized_pnl"])
                       - Decimal(fig["fees"]))
    totals = s["totals"]
    assert totals["fills"] == len(fill_ids) == s["fills"]
    assert Decimal(totals["net_pnl"]) == sum((Decimal(s["venues"][v]["net_pnl"])
                                              for v in venues), Decimal(0))
    assert not (out / "fills.jsonl").exists() and not (out / "equity.csv").exists()
    # The table: a labelled column per venue and their total.
    header = next(line for line in r.stdout.splitlines() if "v_simple" in line)
    assert all(v in header for v in venues) and "total" in header
    assert "v_simple/fills.jsonl" in r.stdout and "hayate report" in r.stdout
    rep = hayate("report", str(out))
    assert rep.returncode == 0, rep.stderr
    html = (out / "report.html").read_text()
    assert "Venues side by side" in html and "Net P&amp;L by venue" in html
    row = html[html.index("<th>v_simple</th>"):]
    assert row.index("<th>v_dynamic</th>") < row.index("<th>v_avellaneda</th>")


def test_the_risk_engine_reads_the_ledgers_pnl_and_flatten_closes_the_position(
        repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "flat"
    r = hayate("run", str(repo_root / "examples/paper.toml"), "--out", str(out), "-q",
               *_sets("collectors.market.duration=10m", "risk.max_loss=5",
                      "risk.on_loss=flatten"))
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["risk"]["trips"].get("max_loss") == 1 and s["risk"]["mode"] == "halted"
    flat = s["flattened"]
    assert flat and flat[0]["reason"] == "risk: max_loss"
    assert set(flat[0]["orders"]) <= {"venue"}
    # The closing order filled: flat at the end, and nothing open.
    assert Decimal(s["final_position"]["BTCUSDT"]) == 0
    assert s["open_orders_at_end"] == 0
    # Same formula, same marks, fees included: the risk engine's P&L is the run's.
    assert Decimal(s["risk"]["pnl"]) == Decimal(s["net_pnl"])
    conn = sqlite3.connect(out / "journal.sqlite")
    reduce_only = conn.execute("SELECT count(*) FROM orders WHERE reduce_only = 1 AND "
                               "status = 'Filled'").fetchone()[0]
    conn.close()
    assert reduce_only >= (1 if flat[0]["orders"] else 0)


def test_an_interrupted_demo_counts_its_events(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "hayate", "run",
                             str(repo_root / "examples/paper.toml"), "--out", str(out), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    journal = out / "journal.sqlite"
    deadline = time.monotonic() + 120

    def orders() -> int:
        try:
            conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
            try:
                return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            return 0

    while orders() < 200:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    s = json.loads((out / "summary.json").read_text())
    # Every order came from an event and was answered by one: far more events than orders.
    assert s["events"] > s["orders"] >= 200, (s["events"], s["orders"])
    assert Decimal(s["equity_end"]) == Decimal(s["equity_start"]) + Decimal(s["net_pnl"])
