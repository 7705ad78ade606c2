"""``hayate report``: figures from a run directory, charts, and the command's behaviour."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hayate.report import load_run, render_report, report_stats
from hayate.report.data import FillRow, RunData
from hayate.report.svg import Chart, Series, downsample

T0 = 1_700_000_000 * 10**9


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=5000), st.integers(10, 400))
def test_downsample_is_bounded_and_keeps_the_extremes(ys: list[float], limit: int) -> None:
    xs = list(range(len(ys)))
    ox, oy = downsample(xs, ys, limit)
    assert len(ox) <= max(limit, len(ys) if len(ys) <= limit else limit + 2)
    assert min(oy) == min(ys) and max(oy) == max(ys)
    assert ox == sorted(ox)


def test_chart_draws_series_and_says_when_empty() -> None:
    c = Chart("P&L", unit="quote", zero_line=True)
    c.add(Series("net", [T0, T0 + 10**9, T0 + 2 * 10**9], [0.0, -1.5, 2.0], color="#000"))
    c.add(Series("buys", [T0 + 10**9], [1.0], color="#0a0", kind="markers-up",
                 titles=["Buy 0.1 @ 1"]))
    svg = c.svg("c1")
    assert svg.count('class="series"') == 1 and "<title>Buy 0.1 @ 1</title>" in svg
    assert 'class="zero"' in svg and "22:13:2" in svg  # a time axis in UTC
    assert "no data" in Chart("empty").svg("c2")


def _fills() -> list[FillRow]:
    # Bought 1 @ 99 with the mid at 100, sold 1 @ 102 with the mid at 101: 2 captured.
    return [FillRow(T0, "X", "Buy", Decimal(99), Decimal(1), Decimal("0.1"), "maker",
                    Decimal(100), "f1"),
            FillRow(T0 + 10**9, "X", "Sell", Decimal(102), Decimal(1), Decimal("0.2"), "taker",
                    Decimal(101), "f2")]


def test_statistics_spread_captured_and_fees() -> None:
    data = RunData(Path("."), summary={"name": "t", "orders": 4}, fills=_fills())
    stats = dict(report_stats(data))
    assert stats["fills (maker / taker)"] == "2 (1 / 1)"
    assert stats["fees"] == "0.3000"
    assert stats["spread captured vs mid"] == "2.0000 (99.50 bps)"
    assert stats["fills per order"] == "0.500"


def test_report_from_the_paper_files_alone(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({"name": "files", "fills": 1}))
    (tmp_path / "equity.csv").write_text(
        "ts,time,equity,realized_pnl,unrealized_pnl,fees,net_pnl,drawdown,X_position,X_mark\n"
        f"{T0},t,100,0,0,0,0,0,0,10\n{T0 + 10**9},t,101,1,0,0,1,0,0.5,10.5\n")
    (tmp_path / "fills.jsonl").write_text(json.dumps({
        "ts": T0, "symbol": "X", "side": "Buy", "price": "10", "qty": "0.5", "fee": "0.01",
        "liquidity": "maker", "fill_id": "f1"}) + "\n")
    data = load_run(tmp_path)
    assert data.sources == ["summary.json", "equity.csv", "fills.jsonl"]
    html = render_report(data)
    assert html.count('<svg class="chart"') >= 5 and "Equity" in html and "Position · X" in html


def test_the_command(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([sys.executable, "-m", "hayate", "report", str(empty)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "is it a run's --out directory?" in r.stderr
    (tmp_path / "summary.json").write_text(json.dumps({"name": "cmd"}))
    r = subprocess.run([sys.executable, "-m", "hayate", "report", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and (tmp_path / "report.html").exists(), r.stderr


def test_a_damaged_run_directory_is_named_not_a_traceback(tmp_path: Path) -> None:
    def report(run: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hayate", "report", str(run)],
                              capture_output=True, text=True)

    (tmp_path / "summary.json").write_text('{"name": "cut sho')
    r = report(tmp_path)
    assert r.returncode == 2 and f"{tmp_path / 'summary.json'} is not readable JSON" in r.stderr
    assert "Traceback" not in r.stderr and "unexpected error" not in r.stderr
    (tmp_path / "summary.json").write_text("[1, 2]")
    r = report(tmp_path)
    assert r.returncode == 2 and "does not hold a run summary" in r.stderr
    (tmp_path / "summary.json").write_text(json.dumps({"name": "x"}))
    (tmp_path / "journal.sqlite").write_bytes(b"not a database at all" * 100)
    r = report(tmp_path)
    assert r.returncode == 2 and f"{tmp_path / 'journal.sqlite'} is not a readable journal" \
        in r.stderr, r.stderr
