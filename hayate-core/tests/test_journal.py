"""The run journal: schema and migrations, a writer that never drops, what a run records,
and a restart that rebuilds the account and reconciles with the venue."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from hayate.actions import Action, PlaceOrder
from hayate.events import Fill, Liquidity, OrderStatus, OrderUpdate, Side
from hayate.journal import ReconcileReport
from hayate.journal.recorder import K_ORDER_UPDATE, MAKERS
from hayate.journal.schema import SCHEMA_VERSION, JournalVersionError, connect, migrate
from hayate.journal.writer import JournalWriter
from hayate.orders.state import AccountState
from hayate.types import Emit, Executor, ExecutorConfig
from hayate_testing import poll_until
from hayate_testing.harness import make_plugins, run_spec_dict_async

ROOT = Path(__file__).resolve().parents[2]


def _tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {n: [c[1] for c in conn.execute(f"PRAGMA table_info({n})")] for n in names}


def test_every_table_and_column_is_documented(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / "j.sqlite"))
    migrate(conn)
    doc = (ROOT / "docs" / "journal-schema.md").read_text()
    for table, cols in _tables(conn).items():
        section = re.search(rf"^### `{table}`\n(.*?)(?=^### |\Z)", doc, re.S | re.M)
        assert section, f"table {table} is not documented"
        for col in cols:
            assert f"| `{col}` |" in section.group(1), f"{table}.{col} is not documented"
    assert f"version {SCHEMA_VERSION}" in doc


def test_migrations_are_idempotent_and_newer_journals_are_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "j.sqlite")
    conn = connect(path)
    assert migrate(conn) == 0
    assert migrate(conn) == SCHEMA_VERSION  # nothing left to do
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(JournalVersionError, match="newer than this Hayate"):
        migrate(connect(path))


def _update(cid: str, status: OrderStatus, ts: int) -> OrderUpdate:
    return OrderUpdate(ts=ts, symbol="X", client_id=cid, order_id="o" + cid, side=Side.BUY,
                       status=status, price=Decimal("1.5"), qty=Decimal(2))


def test_full_queue_makes_the_bot_wait_and_drops_nothing(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / "j.sqlite"))
    migrate(conn)
    sql, make = MAKERS[K_ORDER_UPDATE]
    w: JournalWriter | None = None

    def stalled(p: Any) -> Any:  # a disk that stalls until the bot has had to wait for it
        poll_until(lambda: w is not None and w.waits > 0, interval=0.001,
                   what="the bot to wait for a full queue")
        return make(p)

    makers = list(MAKERS)
    makers[K_ORDER_UPDATE] = (sql, stalled)
    w = JournalWriter(conn, makers, queue_size=16, flush_interval=0.01)
    for i in range(400):
        w.put(K_ORDER_UPDATE, (1, "venue", _update(f"c{i}", OrderStatus.NEW, i)))
        assert w.pending <= 16
    w.close(timeout=60)
    assert w.waits > 0 and w.error is None
    check = sqlite3.connect(tmp_path / "j.sqlite")
    assert check.execute("SELECT count(*) FROM orders").fetchone()[0] == 400


def test_sync_returns_once_committed_and_final_orders_stay_final(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    conn = connect(str(path))
    migrate(conn)
    w = JournalWriter(conn, MAKERS, flush_interval=3600)  # only sync() wakes it
    reader = sqlite3.connect(path)
    w.put(K_ORDER_UPDATE, (1, "v", _update("a", OrderStatus.NEW, 1)))
    w.put(K_ORDER_UPDATE, (1, "v", _update("a", OrderStatus.CANCELLED, 2)))
    w.put(K_ORDER_UPDATE, (1, "v", _update("a", OrderStatus.NEW, 3)))  # late: ignored
    w.put(K_ORDER_UPDATE, (1, "v", _update("b", OrderStatus.NEW, 1)))
    w.put(K_ORDER_UPDATE, (1, "v", _update("b", OrderStatus.CANCELLED, 2)))
    w.put(K_ORDER_UPDATE, (1, "v", _update("b", OrderStatus.FILLED, 3)))  # lost the race
    assert w.sync(timeout=60)  # woken by sync itself: the flush interval is an hour away
    rows = dict(reader.execute("SELECT client_id, status FROM orders"))
    assert rows == {"a": "Cancelled", "b": "Filled"}
    w.close()


# -- a venue with its own record of fills, that answers reconcile() ---------------------------

VENUE_FILLS: dict[str, list[Fill]] = {}  # the "exchange's" memory, across bot restarts


class FillingVenueConfig(ExecutorConfig):
    book: str = "main"


class FillingVenue(Executor):
    """Fills every order at once; remembers its fills as a real venue would."""

    kind: ClassVar[str] = "test.filling_venue"
    Config: ClassVar[type[FillingVenueConfig]] = FillingVenueConfig

    async def run(self, emit: Emit) -> None:
        self._emit = emit

    async def submit(self, actions: Sequence[Action]) -> None:
        out: list[Any] = []
        fills = VENUE_FILLS.setdefault(self.config.book, [])
        for a in actions:
            if not isinstance(a, PlaceOrder):
                continue
            now = self.ctx.clock.now()
            fill = Fill(ts=now, recv_ts=now, symbol=a.symbol, client_id=a.client_id,
                        order_id="o-" + a.client_id, fill_id=f"f{len(fills) + 1}", side=a.side,
                        price=a.price or Decimal(100), qty=a.qty, fee=Decimal("0.01"),
                        liquidity=Liquidity.MAKER)
            fills.append(fill)
            out += [OrderUpdate(ts=now, recv_ts=now, symbol=a.symbol, client_id=a.client_id,
                                order_id=fill.order_id, side=a.side, status=OrderStatus.FILLED,
                                price=a.price, qty=a.qty, filled_qty=a.qty), fill]
        if out:
            await self._emit(out)

    async def reconcile(self, account: Any) -> ReconcileReport:
        known = account.orders.seen_fills
        missed = [f for f in VENUE_FILLS.get(self.config.book, []) if f.fill_id not in known]
        # A venue may well repeat a fill the bot has: it must not count twice.
        again = VENUE_FILLS[self.config.book][:1]
        return ReconcileReport(events=[*again, *missed], notes=[f"{len(missed)} missed fills"])


def _spec(book: str, count: int) -> dict[str, Any]:
    return {
        "name": "journal-live",
        "engine": {"mode": "paper", "status_interval": 0.05},
        "collectors": {"market": {"type": "testing.live_ticks", "count": count,
                                  "interval": 0.001}},
        "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 5}},
        "executors": {"venue": {"type": f"{__name__}:FillingVenue", "book": book}},
    }


def _account(runtime: Any) -> AccountState:
    return next(c for c in runtime.components.values() if isinstance(c, AccountState))


@pytest.mark.anyio
async def test_a_run_is_journaled_and_a_restart_resumes_and_reconciles(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pm = make_plugins()
    out = tmp_path / "run"
    result, runtime = await run_spec_dict_async(_spec("resume", 60), pm, out_dir=out)
    assert result.exit_code == 0, result.exit_reason
    first = _account(runtime).fills
    assert first >= 5
    journal = sqlite3.connect(out / "journal.sqlite")
    assert journal.execute("SELECT count(*) FROM fills").fetchone()[0] == first
    assert journal.execute("SELECT count(*) FROM order_events WHERE kind = 'place'"
                           ).fetchone()[0] == first
    assert result.summary["journal"]["fills"] == first

    # While the bot is down the venue fills two more of its orders.
    now = time.time_ns()
    for i in (1, 2):
        VENUE_FILLS["resume"].append(Fill(
            ts=now, recv_ts=now, symbol="TESTUSDT", client_id=f"gone-{i}", order_id=f"x{i}",
            fill_id=f"down-{i}", side=Side.SELL, price=Decimal(101), qty=Decimal("0.001"),
            fee=Decimal("0.01")))

    with caplog.at_level(logging.WARNING, logger="hayate.journal"):
        result, runtime = await run_spec_dict_async(_spec("resume", 30), pm, out_dir=out)
    assert result.exit_code == 0, result.exit_reason
    # The first session stopped cleanly: nothing speaks of a crash.
    (resumed,) = [r.getMessage() for r in caplog.records if "resumed run" in r.getMessage()]
    assert "open when it last stopped" in resumed and "crash" not in resumed, resumed
    account = _account(runtime)
    venue = VENUE_FILLS["resume"]
    # Every fill the venue ever made is in the account exactly once, and in the journal.
    assert account.fills == len(venue)
    assert account.orders.seen_fills == {f.fill_id for f in venue}
    pos = account.orders.position("TESTUSDT")
    signed = sum((f.qty if f.side is Side.BUY else -f.qty) for f in venue)
    assert pos.size == signed and pos.fees == Decimal("0.01") * len(venue)
    ids = [r[0] for r in journal.execute("SELECT fill_id FROM fills ORDER BY seq")]
    assert sorted(ids) == sorted(f.fill_id for f in venue)
    rec = result.summary["journal"]["recovered"]
    assert rec["fills"] == first and rec["reconciled"]["venue"]["new_fills"] == 2
    sessions = journal.execute("SELECT run_id, resumed, exit_code FROM sessions").fetchall()
    assert sessions == [(1, 0, 0), (1, 1, 0)]
    (recovery,) = journal.execute("SELECT recovery FROM sessions WHERE resumed = 1").fetchone()
    assert json.loads(recovery)["reconciled"]["venue"]["notes"] == ["2 missed fills"]


@pytest.mark.anyio
async def test_simulated_runs_start_afresh_and_the_journal_can_be_off(tmp_path: Path) -> None:
    pm = make_plugins()
    spec: dict[str, Any] = {
        "name": "journal-sim",
        "collectors": {"market": {"type": "testing.ticks", "count": 300}},
        "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 10}},
        "executors": {"venue": {"type": "testing.recorder"}},
    }
    out = tmp_path / "run"
    for _ in range(2):
        result, _ = await run_spec_dict_async(spec, pm, out_dir=out)
        assert result.exit_code == 0
    journal = sqlite3.connect(out / "journal.sqlite")
    assert journal.execute("SELECT run_id, clock FROM runs").fetchall() == [
        (1, "simulated"), (2, "simulated")]
    assert journal.execute("SELECT count(*) FROM sessions WHERE resumed = 1").fetchone()[0] == 0
    # Order ids repeat in a replay; each run keeps its own.
    per_run = journal.execute("SELECT run_id, count(*) FROM orders GROUP BY run_id").fetchall()
    assert per_run[0][1] == per_run[1][1] > 0

    off = tmp_path / "off"
    result, _ = await run_spec_dict_async({**spec, "journal": {"enabled": False}}, pm,
                                          out_dir=off)
    assert result.exit_code == 0 and not (off / "journal.sqlite").exists()
    assert "journal" not in result.summary


@pytest.mark.anyio
async def test_journal_path_from_the_spec(tmp_path: Path) -> None:
    pm = make_plugins()
    path = tmp_path / "elsewhere" / "j.sqlite"
    spec: dict[str, Any] = {
        "name": "journal-path",
        "journal": {"path": str(path), "snapshot_interval": "100ms"},
        "collectors": {"market": {"type": "testing.ticks", "count": 300}},
        "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 10}},
        "executors": {"venue": {"type": "testing.recorder"}},
    }
    result, _ = await run_spec_dict_async(spec, pm, out_dir=None)
    assert result.exit_code == 0 and path.exists()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM pnl_snapshots").fetchone()[0] >= 1


def test_unknown_journal_key_is_a_spec_error() -> None:
    from hayate.exceptions import SpecError
    from hayate.spec.loader import parse_spec

    raw = {"name": "x", "journal": {"pth": "a.sqlite"},
           "collectors": {"market": {"type": "testing.ticks"}},
           "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"]}},
           "executors": {"venue": {"type": "testing.recorder"}}}
    with pytest.raises(SpecError) as e:
        parse_spec(raw, make_plugins().registry, file="t.toml")
    assert any(p.path[:1] == ("journal",) for p in e.value.problems)


def test_writer_failure_releases_a_waiting_sync(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / "j.sqlite"))
    migrate(conn)

    def broken(p: Any) -> Any:
        raise OSError("disk full")

    makers = list(MAKERS)
    makers[K_ORDER_UPDATE] = (makers[K_ORDER_UPDATE][0], broken)
    w = JournalWriter(conn, makers, flush_interval=0.01)
    w.put(K_ORDER_UPDATE, (1, "v", _update("a", OrderStatus.NEW, 1)))
    done: list[bool] = []
    # An hour's timeout: only the failure can release it (a timeout would hang the test).
    t = threading.Thread(target=lambda: done.append(w.sync(timeout=3600)), daemon=True)
    t.start()
    t.join(60)
    assert done == [False] and isinstance(w.error, OSError)
    w.close()
