"""A live run (``examples/bybit-local.toml``: ``bybit.orders`` against the local Bybit
exchange) leaves the same outputs as a paper run, from the venue's own executions: the
summary's fills, volume, fees, P&L and position, ``fills.jsonl``, ``equity.csv``, the
accounting identities, and a report with the trading figures.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate.events import Side
from hayate.orders import Position

pytestmark = pytest.mark.anyio

KEY, SECRET = "demo-key", "demo-secret"


def server_config(repo_root: Path) -> dict[str, Any]:
    cfg = tomllib.loads((repo_root / "examples/serve.toml").read_text())
    cfg["server"]["port"] = 0
    cfg["faults"] = {}
    cfg["market"].update(volatility=1.5, trade_rate=25.0, trade_size="0.02")
    return cfg


def command(repo_root: Path, server: Any, out: Path, duration: str) -> list[str]:
    base = server.base_url
    sets = [f"engine.duration={duration}",
            f"collectors.market.ws_url={server.public_url('linear')}",
            f"collectors.market.rest_url={base}",
            f"collectors.private.rest_url={base}",
            f"executors.venue.rest_url={base}",
            "executors.venue.reconcile_interval=2",
            "strategies.mm.spread_bps=0.2",
            "strategies.mm.requote_threshold_bps=0.2"]
    return [sys.executable, "-m", "hayate", "run", str(repo_root / "examples/bybit-local.toml"),
            "--out", str(out), *[x for s in sets for x in ("--set", s)]]


def bot_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYATE_")}
    env.update(HAYATE_BYBIT_API_KEY=KEY, HAYATE_BYBIT_API_SECRET=SECRET, COLUMNS="200")
    return env


async def test_a_live_run_has_the_paper_runs_outputs(repo_root: Path, tmp_path: Path) -> None:
    from hayate_paper.bybit_server import BybitServer, load_config

    out = tmp_path / "run"
    async with BybitServer(load_config(server_config(repo_root)), port=0) as server:
        r = await anyio.run_process(command(repo_root, server, out, "8s"), env=bot_env(),
                                    check=False)
        text, err = r.stdout.decode(), r.stderr.decode()
        assert r.returncode == 0, err[-3000:]
        account = server.account(KEY)
        executions = list(account.executions)
        venue_position = account.account.position("BTCUSDT").size
    assert executions, "the run made no fill"
    s = json.loads((out / "summary.json").read_text())
    v = s["venues"]["venue"]
    # Every figure comes from the venue's executions.
    assert s["fills"] == v["fills"] == len(executions)
    assert Decimal(s["fees"]) == sum((e.fee for e in executions), Decimal(0))
    assert Decimal(s["volume"]) == sum((e.price * e.qty for e in executions),
                                       Decimal(0)).quantize(Decimal("0.01"))
    # In the venue's own order: average-cost P&L depends on it, and fills of the same
    # millisecond have random execution ids, so sorting by (time, id) would reorder them.
    pos = Position("BTCUSDT")
    for e in executions:
        pos.apply_fill(Side(e.side), e.price, e.qty, e.fee)
    assert Decimal(s["final_position"]["BTCUSDT"]) == pos.size == venue_position
    assert Decimal(s["realized_pnl"]) == pos.realized_pnl
    # The identities, to the last digit.
    net = Decimal(s["net_pnl"])
    assert net == Decimal(s["realized_pnl"]) + Decimal(s["unrealized_pnl"]) - Decimal(s["fees"])
    assert s["equity_start"] is not None
    assert Decimal(s["equity_end"]) == Decimal(s["equity_start"]) + net
    # The risk engine is not armed here; the statistics are there for a live run too.
    for key in ("sharpe", "round_trips", "quote_uptime", "markouts", "fill_ratio",
                "daily_pnl", "time_weighted_inventory"):
        assert key in v, key
    # Files: one fill per execution, an equity curve, listed at the end of the run.
    logged = [json.loads(line) for line in (out / "fills.jsonl").read_text().splitlines()]
    assert {f["fill_id"] for f in logged} == {e.exec_id for e in executions}
    rows = (out / "equity.csv").read_text().splitlines()
    assert rows[0].startswith("ts,time,equity,") and len(rows) > 3
    assert "fills.jsonl" in text and "equity.csv" in text and "hayate report" in text
    assert "net P&L" in text
    report = await anyio.run_process([sys.executable, "-m", "hayate", "report", str(out)],
                                     check=False)
    assert report.returncode == 0, report.stderr.decode()
    html = (out / "report.html").read_text()
    assert "markout 10s after the fill" in html and "Sharpe" in html


async def test_sigterm_while_quotes_fill_leaves_every_venue_fill_in_the_outputs(
        repo_root: Path, tmp_path: Path) -> None:
    """SIGTERM while the market keeps trading through the bot's quotes: it cancels them,
    drains the venue's last reports (a fill can race the stop) and exits 143; every
    execution the venue made is in the journal, ``fills.jsonl`` and the summary, the final
    position is the venue's and nothing is left open there."""
    import signal
    import sqlite3

    from hayate_paper.bybit_server import BybitServer, load_config

    out = tmp_path / "run"
    journal = out / "journal.sqlite"

    def journaled() -> int:
        if not journal.exists():
            return 0
        try:
            conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
            try:
                return int(conn.execute("SELECT count(*) FROM fills").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            return 0

    async with BybitServer(load_config(server_config(repo_root)), port=0) as server:
        account = server.account(KEY)
        async with await anyio.open_process(command(repo_root, server, out, "10m"),
                                            env=bot_env()) as proc:
            try:
                with anyio.fail_after(120):
                    while journaled() < 3 or not (out / "hayate.pid").exists():
                        assert proc.returncode is None
                        await anyio.sleep(0.1)
                    proc.send_signal(signal.SIGTERM)
                    await proc.wait()
            finally:
                if proc.returncode is None:
                    proc.kill()
        await server.settled()
        executions = {e.exec_id for e in account.executions}
        venue_position = account.account.position("BTCUSDT").size
        open_at_venue = [o for o in account.orders.values() if o.is_open]
    assert proc.returncode == 143
    assert not open_at_venue
    s = json.loads((out / "summary.json").read_text())
    assert s["fills"] == len(executions) >= 3
    assert Decimal(s["final_position"]["BTCUSDT"]) == venue_position
    logged = {json.loads(line)["fill_id"] for line in (out / "fills.jsonl").read_text()
              .splitlines()}
    assert logged == executions
    conn = sqlite3.connect(journal)
    assert {r[0] for r in conn.execute("SELECT fill_id FROM fills")} == executions
    conn.close()
    assert _journal_position(journal) == venue_position


def _journal_position(path: Path) -> Decimal:
    import sqlite3

    if not path.exists():
        return Decimal(0)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT side, qty FROM fills").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return Decimal(0)
    return sum((Decimal(q) if s == "Buy" else -Decimal(q) for s, q in rows), Decimal(0))


def _adding_quotes(account: Any) -> list[Any]:
    """The open orders at the venue that would add to its position (any, when flat)."""
    position = account.account.position("BTCUSDT").size
    return [o for o in account.orders.values() if o.is_open and (
        position == 0 or (str(o.side) in ("Buy", "Side.BUY")) == (position > 0))]


async def _kill_flatten(out: Path, proc: Any) -> None:
    """``hayate kill --flatten`` as a user types it; the bot must then end by itself."""
    kill = await anyio.run_process([sys.executable, "-m", "hayate", "kill", "--flatten",
                                    str(out), "--timeout", "100"], check=False)
    assert kill.returncode == 0, kill.stderr.decode()
    await proc.wait()


def _killed_flat(out: Path, proc: Any, account: Any) -> dict[str, Any]:
    """The bot stopped by the kill switch, nothing open and no position at the venue nor in
    its summary; returns the summary."""
    assert proc.returncode == 0
    assert not [o for o in account.orders.values() if o.is_open]
    s = json.loads((out / "summary.json").read_text())
    assert s["exit_reason"] == "kill switch"
    assert account.account.position("BTCUSDT").size == 0 == Decimal(s["final_position"]["BTCUSDT"])
    return dict(s)


async def test_kill_flatten_closes_the_live_position(repo_root: Path, tmp_path: Path) -> None:
    from hayate_paper.bybit_server import BybitServer, load_config
    from hayate_paper.bybit_server.market import MarketChanges

    out = tmp_path / "run"
    async with BybitServer(load_config(server_config(repo_root)), port=0) as server:
        account = server.account(KEY)
        async with await anyio.open_process(command(repo_root, server, out, "10m"),
                                            env=bot_env()) as proc:
            try:
                # Kill with a position open, and known to the bot: once the journal shows one,
                # the market stands still (no quote can fill any more) until the journal holds
                # every fill the venue made; if the position came back to zero, the market
                # moves on and the test tries again. (A fill the bot hears only after the kill
                # is the next test's subject.)
                feed = server.market.apply
                with anyio.fail_after(120):
                    while True:
                        while _journal_position(out / "journal.sqlite") == 0 or not (
                                out / "hayate.pid").exists():
                            assert proc.returncode is None
                            await anyio.sleep(0.1)
                        server.market.apply = lambda events, t_ns=None: MarketChanges()
                        venue = account.account.position("BTCUSDT").size
                        while _journal_position(out / "journal.sqlite") != venue:
                            assert proc.returncode is None
                            await anyio.sleep(0.1)
                        if venue != 0:
                            break
                        server.market.apply = feed
                await _kill_flatten(out, proc)
            finally:
                if proc.returncode is None:
                    proc.kill()
        s = _killed_flat(out, proc, account)
    assert s["flattened"] and s["flattened"][0]["orders"].get("venue")


async def test_kill_flatten_closes_again_after_a_fill_the_bot_heard_late(
        repo_root: Path, tmp_path: Path) -> None:
    """A quote fills while the private stream is silent: the kill's closing order is sized
    without that fill, and the fill reaches the bot only once it has reconnected its
    private stream and caught up. The kill switch waits for every order's end and closes
    the position that fill opened before the bot stops."""
    from hayate_paper.bybit_server import BybitServer, load_config
    from hayate_paper.bybit_server.market import MarketChanges

    out = tmp_path / "run"
    async with BybitServer(load_config(server_config(repo_root)), port=0) as server:
        account = server.account(KEY)
        # The bot notices the silence after 3 s, reconnects and catches up over REST. Its
        # position limit is out of reach (at the example's 0.01 the bot stops quoting the
        # side that adds to its position, the side this test needs).
        cmd = [*command(repo_root, server, out, "10m"), "--set", "engine.teardown_timeout=120",
               "--set", "strategies.mm.max_position=1",
               "--set", "collectors.private.ping_interval=1",
               "--set", "collectors.private.silence_timeout=3"]
        async with await anyio.open_process(cmd, env=bot_env()) as proc:
            try:
                feed = server.market.apply
                with anyio.fail_after(120):
                    # The market stands still (no fill but the test's) once the bot knows
                    # its position and quotes the side that would add to it.
                    while True:
                        while not (out / "hayate.pid").exists():
                            assert proc.returncode is None
                            await anyio.sleep(0.1)
                        server.market.apply = lambda events, t_ns=None: MarketChanges()
                        await server.settled()
                        before = account.account.position("BTCUSDT").size
                        while _journal_position(out / "journal.sqlite") != before:
                            assert proc.returncode is None
                            await anyio.sleep(0.1)
                        adding = _adding_quotes(account)
                        if adding:
                            break
                        # The quotes were between a cancel and their replacement: the market
                        # moves on until the bot quotes a side that adds to its position
                        # (0.1 s of market was not enough under load, one CI run).
                        server.market.apply = feed
                        while not _adding_quotes(account):
                            assert proc.returncode is None
                            await anyio.sleep(0.05)
                    # The bot stops hearing its private stream; a trade through a quote that
                    # adds to the position fills it. Fills are partial by what is left after
                    # the queue ahead, so the print is larger than any queue the simulated
                    # book can hold (a 1 BTC print left the quote unfilled behind a deep
                    # level, one CI run in many).
                    server.inject("silence", target="private")
                    quote = adding[0]
                    buy = str(quote.side) in ("Buy", "Side.BUY")
                    through = Decimal("-1") if buy else Decimal("1")
                    feed([server.market.trade_event("BTCUSDT", quote.price + through, "100000",
                                                    "Sell" if buy else "Buy")])
                    assert abs(account.account.position("BTCUSDT").size) > abs(before)
                    await _kill_flatten(out, proc)
            finally:
                if proc.returncode is None:
                    proc.kill()
        s = _killed_flat(out, proc, account)
    assert [f["orders"]["venue"] for f in s["flattened"] if f["orders"]], s["flattened"]
