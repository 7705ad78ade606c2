"""Shared fixtures: the real recorded samples (packaged in ``hayate_bybit.testing``), the
anyio backend, and the live-trading harness."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate_bybit.testing.samples import SAMPLES_DIR


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def samples() -> Path:
    """The directory of real Bybit messages shipped with ``hayate_bybit.testing``."""
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def recordings(samples: Path) -> Path:
    return samples / "recordings"


# -- live trading against the local exchange (``hayate paper serve``) ------------------------------
# Shared by test_rest*, test_private*, test_orders* and test_live*: an in-process
# BybitServer on 127.0.0.1 (port 0), a hand-driven BTCUSDT book, one account, and a harness
# that runs a real ``bybit.private`` collector wrapped by a real ``bybit.orders`` executor.

API_KEY = "hayate-test-key"
API_SECRET = "hayate-test-secret-0123456789"


def exchange_config(**changes: Any) -> dict[str, Any]:
    """The local exchange's config: BTCUSDT (tick 0.1, step 0.001) around 30000."""
    cfg: dict[str, Any] = {
        "server": {"port": 0},
        "instruments": [{"symbol": "BTCUSDT", "tick_size": "0.1", "qty_step": "0.001",
                         "min_qty": "0.001", "min_notional": "5",
                         "bids": [["30000.0", "5"], ["29999.0", "5"]],
                         "asks": [["30000.5", "5"], ["30001.5", "5"]]}],
        "accounts": [{"api_key": API_KEY, "api_secret": API_SECRET,
                      "balances": {"USDT": "100000"}}],
    }
    cfg.update(changes)
    return cfg


@contextlib.asynccontextmanager
async def local_exchange(**changes: Any) -> AsyncIterator[Any]:
    from hayate_paper.bybit_server import BybitServer, load_config

    async with BybitServer(load_config(exchange_config(**changes)), port=0) as server:
        yield server


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The local account's keys, where Hayate reads them (the environment)."""
    monkeypatch.setenv("HAYATE_BYBIT_API_KEY", API_KEY)
    monkeypatch.setenv("HAYATE_BYBIT_API_SECRET", API_SECRET)
    monkeypatch.delenv("HAYATE_SECRETS_DIR", raising=False)
    return API_KEY, API_SECRET


class LiveHarness:
    """A ``bybit.private`` collector wrapped by a ``bybit.orders`` executor, as the engine
    runs them live, with every event the executor emits recorded in ``events``.

    No time window decides a test by default: the bot's clock is a ``StepClock`` (a socket
    goes silent only when the test advances it), and requests time out after 30 s (tests of
    timeouts set their own)."""

    def __init__(self, server: Any, *, transport: str = "rest", bot: Any = None,
                 private: dict[str, Any] | None = None, **executor: Any) -> None:
        from hayate.context import BotContext, ClientIdFactory, ComponentContext
        from hayate_bybit.private.collector import BybitPrivate, BybitPrivateConfig
        from hayate_bybit.trade.executor import BybitOrders, BybitOrdersConfig
        from hayate_testing import StepClock

        self.server = server
        # Durations (socket silence, stability) pass only when a test steps the clock: a
        # loaded machine cannot make a silence the test did not. Timestamps are real.
        self.bot = bot or BotContext(name="test", clock=StepClock(), seed=1, out_dir=None,
                                     mode="paper", client_ids=ClientIdFactory("t"))
        self.pctx = ComponentContext(self.bot, "private", "bybit.private", "collectors")
        self.ectx = ComponentContext(self.bot, "venue", "bybit.orders", "executors")
        pcfg = dict(environment="local", rest_url=server.base_url, ping_interval=1.0,
                    silence_timeout=3.0, reconnect_min=0.05, reconnect_max=0.2,
                    catch_up_margin=2.0)
        pcfg.update(private or {})
        ecfg: dict[str, Any] = dict(environment="local", rest_url=server.base_url,
                                    private="private", symbols=["BTCUSDT"],
                                    transport=transport, request_timeout=30.0,
                                    unconfirmed_timeout=30.0, reconcile_interval=None,
                                    ping_interval=1.0, silence_timeout=3.0,
                                    reconnect_min=0.05, reconnect_max=0.2)
        ecfg.update(executor)
        self.collector = BybitPrivate("private", BybitPrivateConfig(type="bybit.private",
                                                                     **pcfg), self.pctx)
        self.executor = BybitOrders("venue", BybitOrdersConfig(type="bybit.orders", **ecfg),
                                    self.ectx)
        self.events: list[Any] = []
        self.at_exit: list[Any] = []  # what drain_events() told at teardown
        self._changed = anyio.Event()

    @property
    def account(self) -> Any:
        return self.server.account(API_KEY)

    def of(self, kind: type, **match: Any) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)
                and all(getattr(e, k) == v for k, v in match.items())]

    async def _emit(self, events: Sequence[Any]) -> None:
        self.events.extend(events)
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, check: Callable[[], Any], within: float = 30.0) -> Any:
        with anyio.fail_after(within):
            while True:
                got = check()
                if got:
                    return got
                with anyio.move_on_after(0.05):
                    await self._changed.wait()

    async def submit(self, actions: Sequence[Any]) -> None:
        await self.executor.submit(list(actions))

    @contextlib.asynccontextmanager
    async def running(self, *, setup: bool = True, cancel_on_exit: bool = False
                      ) -> AsyncIterator[LiveHarness]:
        if setup:
            await self.collector.setup()
            await self.executor.setup()
        send, recv = anyio.create_memory_object_stream[Sequence[Any]](1024)

        async def inner() -> AsyncIterator[Sequence[Any]]:
            async with recv:
                async for batch in recv:
                    yield batch

        async def collector() -> None:
            async with send:
                await self.collector.run(send.send)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(collector)
                tg.start_soon(self.executor.wrap_run, inner(), lambda _source: self._emit)
                with anyio.fail_after(30):
                    await self.pctx.ready_event.wait()
                yield self
                tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                if cancel_on_exit:  # as the engine's teardown: cancel, the last word, close
                    await self.executor.cancel_all_open()
                    self.at_exit = list(await self.executor.drain_events())
                await self.executor.aclose()
                await self.collector.aclose()


class LiveKit:
    """What live-trading tests use (conftest modules are not importable by name)."""

    exchange = staticmethod(local_exchange)
    exchange_config = staticmethod(exchange_config)
    Harness = LiveHarness
    api_key = API_KEY
    api_secret = API_SECRET


@pytest.fixture
def live(keys: tuple[str, str]) -> type[LiveKit]:
    """The local exchange and the live harness, with the account's keys in the environment."""
    return LiveKit
