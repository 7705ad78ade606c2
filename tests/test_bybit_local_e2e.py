"""``examples/bybit-local.toml`` end to end: ``mm.simple`` through ``bybit.public`` +
``bybit.private`` + ``bybit.orders`` against the local Bybit exchange (``hayate paper
serve``, started here in-process on a free port from ``examples/serve.toml``), run by the
real ``hayate run`` command.

The second test kills the bot with SIGKILL mid-run and starts it again on the same
journal: afterwards the journal holds exactly the venue's executions, each once, the
bot's position is the venue's, and nothing is left open.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate.events import Side
from hayate.orders import Position
from hayate_testing import wait_until

pytestmark = pytest.mark.anyio

KEY, SECRET = "demo-key", "demo-secret"


def server_config(repo_root: Path) -> dict[str, Any]:
    cfg = tomllib.loads((repo_root / "examples/serve.toml").read_text())
    cfg["server"]["port"] = 0
    cfg["faults"] = {}
    cfg["market"].update(volatility=1.5, trade_rate=25.0, trade_size="0.02")
    return cfg


def overrides(server: Any, duration: str) -> list[str]:
    base = server.base_url
    sets = [f"engine.duration={duration}",
            f"collectors.market.ws_url={server.public_url('linear')}",
            f"collectors.market.rest_url={base}",
            f"collectors.private.rest_url={base}",
            f"executors.venue.rest_url={base}",
            "executors.venue.reconcile_interval=2",
            "strategies.mm.spread_bps=0.2",
            "strategies.mm.requote_threshold_bps=0.2"]
    return [x for s in sets for x in ("--set", s)]


def bot_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYATE_")}
    env.update(HAYATE_BYBIT_API_KEY=KEY, HAYATE_BYBIT_API_SECRET=SECRET)
    return env


def command(repo_root: Path, server: Any, out: Path, duration: str) -> list[str]:
    return [sys.executable, "-m", "hayate", "run", str(repo_root / "examples/bybit-local.toml"),
            "--out", str(out), "-q", *overrides(server, duration)]


def journal_fills(path: Path) -> list[tuple[str, str, str, str]]:
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT fill_id, side, price, qty FROM fills ORDER BY seq").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


async def test_example_runs_end_to_end(repo_root: Path, tmp_path: Path) -> None:
    from hayate_paper.bybit_server import BybitServer, load_config

    out = tmp_path / "run"
    async with BybitServer(load_config(server_config(repo_root)), port=0) as server:
        r = await anyio.run_process(command(repo_root, server, out, "8s"), env=bot_env(),
                                    check=False)
        err = r.stderr.decode()
        assert r.returncode == 0, err[-3000:]
        summary = json.loads((out / "summary.json").read_text())
        account = server.account(KEY)
        placed = [o for o in account.orders.values() if o.link_id.startswith("hy-")]
        venue = summary["components"]["venue"]
        assert placed and len(placed) <= summary["actions_by_type"]["PlaceOrder"]
        assert venue["trade_socket_requests"] > 0 and venue["rejected"] == 0
        assert summary["components"]["private"]["private_connects"] == 1
        assert not [o for o in account.orders.values() if o.is_open]  # cancelled at exit
        assert {f[0] for f in journal_fills(out / "journal.sqlite")} == \
            {e.exec_id for e in account.executions}
        # The journal ends as the venue: no order it holds is still open (the exit's
        # cancels, and fills that raced the stop, were recorded before it closed).
        assert journal_open_orders(out / "journal.sqlite") == []


def journal_open_orders(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT client_id, status FROM orders WHERE status IN "
                            "('New', 'PartiallyFilled', 'PendingNew', 'PendingCancel', "
                            "'PendingAmend', 'Untriggered')").fetchall()
    finally:
        conn.close()


@pytest.mark.slow
async def test_sigkill_and_restart_against_the_local_exchange(repo_root: Path,
                                                              tmp_path: Path) -> None:
    from hayate_paper.bybit_server import BybitServer, load_config

    out = tmp_path / "run"
    journal = out / "journal.sqlite"
    async with BybitServer(load_config(server_config(repo_root)), port=0) as server:
        account = server.account(KEY)
        async with await anyio.open_process(command(repo_root, server, out, "10m"),
                                            env=bot_env()) as proc:
            def fills_and_an_open_order() -> bool:
                assert proc.returncode is None
                return len(journal_fills(journal)) >= 3 and \
                    any(o.is_open for o in account.orders.values())

            await wait_until(fills_and_an_open_order, within=90, interval=0.2,
                             what="three journaled fills and an open order")
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        assert [o for o in account.orders.values() if o.is_open]  # left behind by the crash
        before = journal_fills(journal)

        r = await anyio.run_process(command(repo_root, server, out, "6s"), env=bot_env(),
                                    check=False)
        err = r.stderr.decode()
        assert r.returncode == 0, err[-3000:]
        assert "resumed run" in err
        summary = json.loads((out / "summary.json").read_text())
        assert summary["journal"]["recovered"]["fills"] == len(before)
        # Its journaled orders are recognised as its own; an order sent in the last few
        # milliseconds before the kill may not have reached the journal: unknown, cancelled.
        venue = summary["components"]["venue"]
        assert venue["unknown_cancelled"] <= 2, venue.get("reconcile_notes")

        after = journal_fills(journal)
        ids = [f[0] for f in after]
        assert len(ids) == len(set(ids))  # nothing counted twice
        venue_fills = {e.exec_id: e for e in account.executions}
        # Nothing lost, even what raced the final stop (fetched at exit over REST).
        assert set(ids) == set(venue_fills)
        pos = Position("BTCUSDT")
        for _, side, price, qty in after:
            pos.apply_fill(Side(side), Decimal(price), Decimal(qty))
        assert pos.size == account.account.position("BTCUSDT").size
        assert not [o for o in account.orders.values() if o.is_open]
        # Every order the journal held open at the crash got its final state.
        assert journal_open_orders(journal) == []


async def test_delayed_answers_never_pile_up_orders_at_the_venue(repo_root: Path,
                                                                 tmp_path: Path) -> None:
    """Slow answers while the market moves and the strategy requotes: creates and cancels
    still in flight count against mm.simple's two levels per side, so the venue never
    holds more of our orders on a side than that (it held up to 13 in all before). (Answers
    later than the request timeout are an outage: quoting pauses, see test_venue_outage.)"""
    from hayate_paper.bybit_server import BybitServer, load_config

    out = tmp_path / "run"
    levels = 2
    async with BybitServer(load_config(server_config(repo_root)), port=0) as server:
        account = server.account(KEY)
        cmd = command(repo_root, server, out, "8s")
        peak = {"Buy": 0, "Sell": 0}
        async with await anyio.open_process(cmd, env=bot_env()) as proc:
            with anyio.fail_after(60):
                while not [o for o in account.orders.values() if o.is_open]:
                    assert proc.returncode is None
                    await anyio.sleep(0.02)
            server.inject("delay", ms=250)  # every answer from now on is slow
            while proc.returncode is None:
                for side in peak:
                    n = sum(1 for o in account.orders.values() if o.is_open and o.side == side)
                    peak[side] = max(peak[side], n)
                with anyio.move_on_after(0.01):
                    await proc.wait()
            server.inject("clear")
        assert proc.returncode == 0
        assert max(peak.values()) <= levels, peak
        assert sum(1 for o in account.orders.values() if o.link_id.startswith("hy-")) > 4
