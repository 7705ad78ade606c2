"""Whole bots (engine, journal, ``bybit.private`` + ``bybit.orders``) against the local
exchange, stopped with orders open and a position, then started again.

- With a journal, the restart rebuilds the account from it and reconciles with the venue
  (``Executor.reconcile``): a fill made while the bot was down arrives once, the position
  and the orders agree with the venue.
- Without one, the start reconciliation treats what is open as unknown: cancelled,
  adopted, or the bot stops with the reason, as configured; the position is adopted.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest
from pydantic import Field

from hayate.actions import Action, PlaceOrder
from hayate.events import Event, Fill, OrderStatus, Side
from hayate.orders import AccountState
from hayate.plugins import hookimpl
from hayate.types import Strategy, StrategyConfig
from hayate_testing import wait_until
from hayate_testing.harness import make_plugins, run_spec_dict_async

pytestmark = pytest.mark.anyio

D = Decimal


class ScriptConfig(StrategyConfig):
    orders: list[dict[str, str]] = Field(default_factory=list)
    stop_after_fills: int | None = Field(
        None, description="Ask the engine to stop once this many fills were seen.")


class ScriptStrategy(Strategy):
    """Places its configured orders at start and remembers every event it is given; can
    stop the bot once it has seen its fills (a run ends when the test's point is made)."""

    kind: ClassVar[str] = "test.script"
    Config: ClassVar[type[ScriptConfig]] = ScriptConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.seen: list[Event] = []

    def on_start(self, view: Any) -> Sequence[Action]:
        return [PlaceOrder(symbol="BTCUSDT", side=Side(o["side"]), qty=D(o["qty"]),
                           price=D(o["price"])) for o in self.config.orders]

    def on_event(self, event: Event, view: Any) -> None:
        self.seen.append(event)
        wanted = self.config.stop_after_fills
        if wanted is not None and sum(isinstance(e, Fill) for e in self.seen) == wanted:
            self.ctx.bot.request_stop(f"test: {wanted} fill(s) seen")


class _TestPlugin:
    @hookimpl
    def hayate_register_strategies(self, register: Any) -> None:
        register(ScriptStrategy)


def plugins() -> Any:
    pm = make_plugins(["hayate_bybit.plugin"])
    pm.add_plugin("restart-tests", plugin=_TestPlugin())
    return pm


def spec(server: Any, journal: Path | None, *, orders: list[dict[str, str]] = (),  # type: ignore[assignment]
         duration: float = 1.5, cancel: bool = False, stop_after_fills: int | None = None,
         **venue: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "spec_version": 1, "name": "restart-test",
        "engine": {"mode": "paper", "duration": duration, "cancel_orders_on_exit": cancel,
                   "ready_timeout": 60},
        "journal": {"enabled": journal is not None, "path": str(journal) if journal else None},
        "collectors": {"private": {"type": "bybit.private", "environment": "local",
                                   "rest_url": server.base_url, "ping_interval": 1.0,
                                   "silence_timeout": 3.0}},
        "executors": {"venue": {"type": "bybit.orders", "environment": "local",
                                "rest_url": server.base_url, "private": "private",
                                "symbols": ["BTCUSDT"], **venue}},
        "strategies": {"s": {"type": "test.script", "inputs": ["venue"],
                             "orders": list(orders), "stop_after_fills": stop_after_fills}},
    }
    if journal is None:
        del raw["journal"]["path"]
    return raw


ORDERS = [{"side": "Buy", "price": "29999.5", "qty": "0.01"},
          {"side": "Buy", "price": "29980.0", "qty": "0.01"},
          {"side": "Sell", "price": "30100.0", "qty": "0.01"}]


def open_at_venue(server: Any, api_key: str) -> list[Any]:
    return [o for o in server.account(api_key).orders.values() if o.is_open]


async def run_with(server: Any, raw: dict[str, Any], out: Path,
                   during: Any = None) -> tuple[Any, Any]:
    result: list[Any] = []

    async def bot() -> None:
        result.extend(await run_spec_dict_async(raw, plugins(), out_dir=out))

    async with anyio.create_task_group() as tg:
        tg.start_soon(bot)
        if during is not None:
            await during()
    return result[0], result[1]


def account_of(runtime: Any) -> AccountState:
    return next(c for c in runtime.components.values() if isinstance(c, AccountState))


async def first_run(server: Any, live: Any, raw: dict[str, Any], out: Path) -> tuple[Any, Any]:
    """Three orders; the 29999.5 bid fills while the bot runs, which then stops (its
    strategy has seen the fill); two stay open after it (unless it cancels at exit)."""
    raw = {**raw, "engine": {**raw["engine"], "duration": 60},  # only bounds a stuck bot
           "strategies": {"s": {**raw["strategies"]["s"], "stop_after_fills": 1}}}

    async def fill_one() -> None:
        await wait_until(lambda: len(open_at_venue(server, live.api_key)) == 3,
                         what="three orders resting at the venue")
        server.push_trade("BTCUSDT", "29999.5", "1", "Sell")

    result, runtime = await run_with(server, raw, out, fill_one)
    assert result.exit_code == 0, result.exit_reason
    cancelled = raw["engine"]["cancel_orders_on_exit"]
    assert len(open_at_venue(server, live.api_key)) == (0 if cancelled else 2)
    assert account_of(runtime).position_size("BTCUSDT") == D("0.01")
    return result, runtime


async def test_restart_from_the_journal_reconciles(live: Any, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    async with live.exchange() as server:
        await first_run(server, live, spec(server, journal, orders=ORDERS), tmp_path / "r1")
        # While the bot is down, its 29980 bid fills.
        server.push_trade("BTCUSDT", "29980.0", "1", "Sell")
        missed = [e.exec_id for e in server.account(live.api_key).executions][-1]

        result, runtime = await run_with(server, spec(server, journal, cancel=True),
                                         tmp_path / "r2")
        assert result.exit_code == 0, result.exit_reason
        recovered = result.summary["journal"]["recovered"]
        assert recovered["open_orders"] == 2
        assert recovered["reconciled"]["venue"]["new_fills"] == 1
        account = account_of(runtime)
        assert missed in account.orders.seen_fills
        assert account.position_size("BTCUSDT") == D("0.02")  # both bids, each once
        assert account.orders.duplicate_fills == 0 and account.fills == 2
        statuses = sorted(o.status.value for o in account.orders.orders.values())
        # The ask was open until the exit, which cancelled it: the account ends as the venue.
        assert statuses == ["Cancelled", "Filled", "Filled"]
        assert not open_at_venue(server, live.api_key)
        venue_notes = result.summary["components"]["venue"]
        assert venue_notes["unknown_cancelled"] == 0  # its own orders were recognised


@pytest.mark.parametrize("policy", ["cancel", "adopt"])
async def test_restart_without_a_journal(live: Any, tmp_path: Path, policy: str) -> None:
    async with live.exchange() as server:
        await first_run(server, live, spec(server, None, orders=ORDERS), tmp_path / "r1")
        result, runtime = await run_with(
            server, spec(server, None, unknown_orders=policy), tmp_path / "r2")
        assert result.exit_code == 0, result.exit_reason
        account = account_of(runtime)
        assert account.position_size("BTCUSDT") == D("0.01")  # adopted from the venue
        notes = " ".join(result.summary["components"]["venue"]["reconcile_notes"])
        assert "position is 0.010 at the venue" in notes
        if policy == "cancel":
            assert not open_at_venue(server, live.api_key)
            assert notes.count("cancelling unknown open order") == 2
        else:
            adopted = [o for o in account.orders.orders.values() if o.adopted]
            assert len(adopted) == 2 and all(o.status is OrderStatus.NEW for o in adopted)
            assert len(open_at_venue(server, live.api_key)) == 2  # left alone (no cancel on exit)


async def test_unknown_orders_can_stop_the_bot(live: Any, tmp_path: Path) -> None:
    async with live.exchange() as server:
        await first_run(server, live, spec(server, None, orders=ORDERS), tmp_path / "r1")
        result, _ = await run_with(server, spec(server, None, unknown_orders="halt"),
                                   tmp_path / "r2")
        assert result.exit_code == 1
        assert "found an open order this bot does not know" in result.exit_reason
        assert "venue" in result.exit_reason  # the component is named
        assert len(open_at_venue(server, live.api_key)) == 2  # nothing was touched


async def test_position_mismatch_can_stop_the_bot(live: Any, tmp_path: Path) -> None:
    async with live.exchange() as server:
        await first_run(server, live, spec(server, None, orders=ORDERS, cancel=True),
                        tmp_path / "r1")
        result, _ = await run_with(server, spec(server, None, position_mismatch="halt"),
                                   tmp_path / "r2")
        assert result.exit_code == 1
        assert "BTCUSDT position is 0.010 at the venue, 0 by the bot's fills" in \
            result.exit_reason
