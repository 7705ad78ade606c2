"""Crash safety: ``kill -9`` a real ``hayate run`` mid-run, restart it, lose and double-count
nothing.

The bot paper-trades on the wall clock (a live-paced ``sim.market``, defined below and
loaded through the ``module:Class`` escape hatch, so no network is needed) with a market
maker that writes the id of every fill it receives to a witness file before acting on it.
After SIGKILL every witnessed fill must be in the journal; the restarted run must resume
(account and paper venue rebuilt from the journal, open orders reconciled) and end with
the venue, the account and the journal agreeing fill for fill.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import anyio
import msgspec
import pytest
from pydantic import Field

from hayate.actions import Action
from hayate.events import Event, Fill, Side
from hayate.orders import Position
from hayate.types import Emit
from hayate_paper.market import SimMarket, SimMarketConfig
from hayate_strategies.market_making.simple import SimpleMarketMaker, SimpleMMConfig
from hayate_testing import poll_until

HERE = Path(__file__).resolve().parent


class LiveSimMarketConfig(SimMarketConfig):
    pace: float = Field(20.0, gt=0, description="Simulated seconds per wall second.")


class LiveSimMarket(SimMarket):
    """``sim.market`` streamed on the wall clock: a live source that needs no network."""

    Config: ClassVar[type[LiveSimMarketConfig]] = LiveSimMarketConfig
    simulated: ClassVar[bool] = False

    async def run(self, emit: Emit) -> None:
        clock = self.ctx.clock
        pace = self.config.pace
        wall0 = clock.now()
        start: int | None = None
        batch: list[Event] = []
        for ev in self.events():
            if start is None:
                start = ev.ts
            due = wall0 + int((ev.ts - start) / pace)
            now = clock.now()
            if due > now:
                if batch:
                    await emit(batch)
                    batch = []
                    self.ctx.set_ready()
                await anyio.sleep((due - now) / 1e9)
                now = clock.now()
            batch.append(msgspec.structs.replace(ev, ts=now, recv_ts=now))
        if batch:
            await emit(batch)


class WitnessConfig(SimpleMMConfig):
    witness: str = Field(description="File that gets the id of every fill received.")


class WitnessMarketMaker(SimpleMarketMaker):
    """``mm.simple`` that records each fill it is handed, before it acts on it."""

    Config: ClassVar[type[WitnessConfig]] = WitnessConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self._fd = os.open(config.witness, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        if isinstance(event, Fill):
            os.write(self._fd, f"{event.fill_id}\n".encode())
        return super().on_event(event, view)


SPEC = """
spec_version = 1
name = "crash-test"

[engine]
mode = "paper"
seed = 3
status_interval = 1

[collectors.market]
type = "test_crash_recovery:LiveSimMarket"
symbol = "BTCUSDT"
duration = "{duration}"
pace = 25
volatility = 0.6
trade_rate = 8

[strategies.mm]
type = "test_crash_recovery:WitnessMarketMaker"
inputs = ["market"]
symbol = "BTCUSDT"
spread_bps = 0.5
order_qty = "0.005"
levels = 2
level_spacing_bps = 0.5
requote_threshold_bps = 0.3
max_position = "0.05"
witness = "{witness}"

[executors.venue]
type = "paper.exchange"
source = "market"
balances = {{ USDT = "10000" }}

[executors.venue.latency]
entry = "1ms"
cancel = "1ms"
response = "1ms"
market_data = "1ms"
"""


def _hayate(spec: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.Popen([sys.executable, "-m", "hayate", "run", str(spec), "--out", str(out),
                             "-q", *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _journal_fills(path: Path) -> list[tuple[str, str, str, str, str]]:
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT fill_id, side, price, qty, fee FROM fills ORDER BY seq"
                            ).fetchall()
    except sqlite3.OperationalError:  # the schema is not there yet
        return []
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_then_resume_loses_and_double_counts_no_fill(tmp_path: Path) -> None:
    out = tmp_path / "run"
    witness = tmp_path / "witness.txt"
    spec = tmp_path / "crash.toml"
    spec.write_text(SPEC.format(duration="2h", witness=witness))
    journal = out / "journal.sqlite"

    # 1. Run until the bot has a few fills, then kill it without any chance to clean up.
    proc = _hayate(spec, out)

    def twelve_fills() -> bool:
        assert proc.poll() is None, proc.communicate()[1].decode()[-3000:]
        return len(_journal_fills(journal)) >= 12

    poll_until(twelve_fills, within=90, interval=0.2, what="12 fills in the journal")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = _journal_fills(journal)
    seen = witness.read_text().split()
    assert seen, "the strategy received no fill before the kill"
    # Every fill a strategy had received was committed before it saw it.
    assert set(seen) <= {f[0] for f in before}

    # 2. Restart with the same journal: it resumes, runs a while, stops cleanly.
    proc = _hayate(spec, out, "--set", "collectors.market.duration=120")
    _, err = proc.communicate(timeout=120)
    log = err.decode()
    assert proc.returncode == 0, log[-3000:]
    assert "resumed run 1" in log, log[-3000:]
    after = _journal_fills(journal)
    ids = [f[0] for f in after]
    assert len(ids) == len(set(ids))
    assert ids[:len(before)] == [f[0] for f in before]  # nothing lost, order kept
    assert len(after) > len(before), "the resumed run made no fill"
    assert set(witness.read_text().split()) <= set(ids)

    # 3. Venue, account and journal agree: every fill counted exactly once.
    summary = json.loads((out / "summary.json").read_text())
    assert summary["journal"]["recovered"]["fills"] == len(before)
    # The venue's own fill log covers the resumed session (it is rewritten at a start).
    venue = [json.loads(line) for line in (out / "fills.jsonl").read_text().splitlines()]
    assert summary["fills"] == len(before) + len(venue)  # the venue's count, across the crash
    journaled = set(ids)
    last_received = max(f["ts"] for f in venue if f["fill_id"] in journaled)
    # Fills the venue made after the bot's last one were still on their way when the run
    # stopped (a live venue's reconciliation recovers those at the next start).
    in_flight = [f for f in venue if f["fill_id"] not in journaled]
    assert all(f["ts"] >= last_received for f in in_flight)
    assert len(in_flight) <= 2
    pos = Position("BTCUSDT")
    fees = Decimal(0)
    for _, side, price, qty, fee in after:
        pos.apply_fill(Side(side), Decimal(price), Decimal(qty), Decimal(fee))
        fees += Decimal(fee)
    acct_fees_journal, acct_realized_journal = fees, pos.realized_pnl
    for f in in_flight:
        pos.apply_fill(Side(f["side"]), Decimal(f["price"]), Decimal(f["qty"]), Decimal(f["fee"]))
        fees += Decimal(f["fee"])
    assert Decimal(summary["final_position"]["BTCUSDT"]) == pos.size
    assert Decimal(summary["fees"]) == fees
    assert Decimal(summary["realized_pnl"]) == pos.realized_pnl
    assert Decimal(summary["equity_end"]) == Decimal(summary["equity_start"]) + Decimal(
        summary["net_pnl"])
    conn = sqlite3.connect(journal)
    # The account (not the venue) as the journal's last P&L snapshot saw it.
    acct_fees, acct_realized = conn.execute(
        "SELECT fees, realized FROM pnl_snapshots WHERE symbol = 'BTCUSDT'"
        " ORDER BY id DESC LIMIT 1").fetchone()
    assert Decimal(acct_fees) == acct_fees_journal
    # Exact accounting (a cost basis, not a rounded average): the account after the restart
    # and this replay of the journal agree to the last digit.
    assert Decimal(acct_realized) == acct_realized_journal
    sessions = conn.execute("SELECT run_id, ended_at IS NOT NULL, resumed, exit_code"
                            " FROM sessions ORDER BY session_id").fetchall()
    assert sessions == [(1, 0, 0, None), (1, 1, 1, 0)]
    # Orders open at the crash died with the simulated venue and were reconciled.
    restarted = conn.execute("SELECT count(*) FROM order_events WHERE reason = ?",
                             ("paper venue restarted",)).fetchone()[0]
    assert restarted >= 1
    assert conn.execute("SELECT count(DISTINCT run_id) FROM fills").fetchone()[0] == 1

    # The report tells the whole story, restart included.
    report = subprocess.run([sys.executable, "-m", "hayate", "report", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    html = (out / "report.html").read_text()
    assert "<td>sessions (restarts, unclean stops)</td><td>2 (1, 1)</td>" in html
    assert f"<td>fills (maker / taker)</td><td>{len(after):,} (" in html
