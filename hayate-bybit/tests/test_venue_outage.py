"""A hostile venue never stops a bot by surprise: 10006 and 5xx bursts on any route are
waited out within ``max_outage`` while the strategy hears ``VenueStatus``; only a spent
budget stops the bot, with that reason; the exit's cancel-all retries a failing venue and
the summary names what may remain open.

Each scenario is about outcomes (what was placed, reported, left open), not timing: the
faults are counted by the local exchange (the next N requests fail), so the same things
happen however fast the machine is. The burst scenario runs three times.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate.actions import PlaceOrder
from hayate.engine.runtime import BotRuntime
from hayate.events import OrderStatus, OrderUpdate, Side, VenueStatus
from hayate.spec.loader import parse_spec
from hayate_testing import wait_until
from hayate_testing.harness import make_plugins

pytestmark = pytest.mark.anyio

D = Decimal


def bid(cid: str, price: str = "29990.0") -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=D("0.01"), price=D(price),
                      client_id=cid)


def status(h: Any, cid: str) -> OrderStatus | None:
    ups = h.of(OrderUpdate, client_id=cid)
    return ups[-1].status if ups else None


def placed(h: Any, cid: str) -> list[Any]:
    return [o for o in h.account.orders.values() if o.link_id == cid]


@pytest.mark.parametrize("round_", [1, 2, 3])
async def test_a_burst_of_5xx_and_10006_is_waited_out(live: Any, round_: int) -> None:
    """Four 503s then three 10006 on whatever comes next: the create that meets them is
    refused (it never took effect), the venue is reported degraded once and healthy once,
    orders wait meanwhile, and afterwards trading goes on, each order placed once."""
    async with live.exchange() as server:
        # The client gives up on a refused request quickly; the outage budget takes over.
        h = live.Harness(server, max_rate_wait=0.3, batch=False)
        async with h.running():
            server.inject("http_error", count=4, status=503)
            server.inject("rate_limit", count=3)
            await h.submit([bid("b1")])
            await h.wait_for(lambda: h.of(VenueStatus, healthy=False), within=30)
            # While degraded, new exposure is not sent at all.
            await h.submit([bid("b2", "29980.0")])
            await h.wait_for(lambda: status(h, "b2") is OrderStatus.REJECTED)
            assert "venue degraded" in h.of(OrderUpdate, client_id="b2")[-1].reason
            await h.wait_for(lambda: h.of(VenueStatus, healthy=True), within=60)
            # b1 met the 503 (outcome unknown): looked up, then sent again with its own
            # orderLinkId; it ends placed, once.
            await h.wait_for(lambda: status(h, "b1") is OrderStatus.NEW, within=60)
            await h.submit([bid("b3", "29970.0")])
            await h.wait_for(lambda: status(h, "b3") is OrderStatus.NEW)
            assert len(placed(h, "b1")) == 1 and not placed(h, "b2")
            assert len(placed(h, "b3")) == 1
            statuses = [e.healthy for e in h.of(VenueStatus)]
            assert statuses == [False, True]
            summary = h.executor.summary()
            assert summary["venue_outages"] == 1
            assert summary["venue_transient_failures"] >= 2
            assert server.faults.http_errors_left == 0 and server.faults.rate_limits_left == 0


async def test_a_lookup_during_an_outage_waits_instead_of_stopping(live: Any) -> None:
    """A lost create answer is resolved by a query; 5xx on that query (the route that used
    to stop the bot) is retried within the budget and the order is learned."""
    async with live.exchange() as server:
        h = live.Harness(server, request_timeout=0.3, max_rate_wait=0.3)
        async with h.running():
            server.inject("delay", ms=700, seconds=0.5)  # the create's answer comes too late
            await h.submit([bid("q1")])
            await h.wait_for(lambda: h.ectx.metrics.counters.get("requests_outcome_unknown"))
            server.inject("clear")
            server.inject("http_error", count=6, status=502)
            await h.wait_for(lambda: status(h, "q1") is OrderStatus.NEW, within=60)
            assert len(placed(h, "q1")) == 1


# -- whole bots ---------------------------------------------------------------------------------
def spec(server: Any, *, duration: float, **venue: Any) -> dict[str, Any]:
    return {
        "spec_version": 1, "name": "outage-test",
        "engine": {"mode": "paper", "duration": duration, "ready_timeout": 60,
                   "teardown_timeout": 20},
        "collectors": {"private": {"type": "bybit.private", "environment": "local",
                                   "rest_url": server.base_url, "ping_interval": 1.0,
                                   "silence_timeout": 3.0}},
        "executors": {"venue": {"type": "bybit.orders", "environment": "local",
                                "rest_url": server.base_url, "private": "private",
                                "symbols": ["BTCUSDT"], "max_rate_wait": 0.3, **venue}},
        "strategies": {"s": {"type": "test.place", "inputs": ["venue"]}},
    }


def plugins() -> Any:
    from collections.abc import Sequence
    from typing import ClassVar

    from hayate.actions import Action
    from hayate.plugins import hookimpl
    from hayate.types import Strategy, StrategyConfig

    class PlaceTwo(Strategy):
        """Places two bids at start; afterwards only listens."""

        kind: ClassVar[str] = "test.place"
        Config: ClassVar[type[StrategyConfig]] = StrategyConfig

        def on_start(self, view: Any) -> Sequence[Action]:
            return [bid(self.ctx.new_client_id("a"), "29990.0"),
                    bid(self.ctx.new_client_id("b"), "29980.0")]

        def on_event(self, event: Any, view: Any) -> None:
            return None

    class _Plugin:
        @hookimpl
        def hayate_register_strategies(self, register: Any) -> None:
            register(PlaceTwo)

    pm = make_plugins(["hayate_bybit.plugin"])
    pm.add_plugin("outage-tests", plugin=_Plugin())
    return pm


async def run_bot(server: Any, raw: dict[str, Any], out: Path, during: Any) -> tuple[Any, Any]:
    """Run the bot while ``during(runtime)`` drives the scenario (it may stop the bot)."""
    pm = plugins()
    runtime = BotRuntime(parse_spec(copy.deepcopy(raw), pm.registry, file="test.toml"), pm,
                         out_dir=out, install_signal_handlers=False)
    result: list[Any] = []

    async def bot() -> None:
        result.append(await runtime.run())

    with anyio.fail_after(120):  # only fails a bot that is stuck
        async with anyio.create_task_group() as tg:
            tg.start_soon(bot)
            await during(runtime)
    return result[0], runtime


def open_at_venue(server: Any, live: Any) -> list[Any]:
    return [o for o in server.account(live.api_key).orders.values() if o.is_open]


async def test_a_spent_budget_stops_the_bot_with_the_reason(live: Any, tmp_path: Path) -> None:
    """The venue fails every request from some point on: after ``max_outage`` the bot
    stops with that reason; the exit's cancel-all keeps trying until its deadline and the
    summary names the orders that may still be open."""
    async with live.exchange() as server:
        raw = spec(server, duration=120, max_outage=1.0, reconcile_interval=0.2,
                   exit_cancel_timeout=1.0)

        async def outage(runtime: Any) -> None:
            await wait_until(lambda: len(open_at_venue(server, live)) == 2)
            server.inject("rate_limit", count=1_000_000)

        result, _ = await run_bot(server, raw, tmp_path / "run", outage)
        assert result.exit_code == 1
        assert "VenueOutage" in result.exit_reason and "max_outage" in result.exit_reason
        venue = result.summary["components"]["venue"]
        assert venue["venue_outages"] == 1
        left = [o.link_id for o in open_at_venue(server, live)]
        assert sorted(venue["orders_maybe_open"]) == sorted(left) and len(left) == 2


async def test_the_exit_cancel_all_retries_a_failing_venue(live: Any, tmp_path: Path) -> None:
    """The stop meets a burst of 10006 and 503: the exit's cancel-all waits it out and
    nothing is left open, nor reported as maybe open."""
    async with live.exchange() as server:
        raw = spec(server, duration=120, reconcile_interval=None, cancel_orders_on_exit=True)

        async def burst_at_the_stop(runtime: Any) -> None:
            await wait_until(lambda: len(open_at_venue(server, live)) == 2)
            server.inject("http_error", count=2, status=503)
            server.inject("rate_limit", count=2)
            runtime.ctx.request_stop("test: stop into the burst")  # not a 1 s race with it

        result, _ = await run_bot(server, raw, tmp_path / "run", burst_at_the_stop)
        assert result.exit_code == 0, result.exit_reason
        assert not open_at_venue(server, live)
        assert "orders_maybe_open" not in result.summary["components"]["venue"]
        assert server.faults.http_errors_left == 0 and server.faults.rate_limits_left == 0
