"""The test kit's conformance suites on every Bybit component, each against what it really
talks to: ``bybit.replay`` on the shipped recordings, ``bybit.public`` on a local server
replaying real frames (``hayate_bybit.testing.PublicServer``), ``bybit.private`` and
``bybit.orders`` on the local exchange (``hayate_paper.bybit_server.BybitServer``), all on
127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from hayate_bybit.testing import PublicServer, instrument_item
from hayate_bybit.testing.samples import RECORDINGS_DIR
from hayate_testing.conformance import (
    ExecutorConformance,
    LiveCollectorConformance,
    LiveSource,
    SimulatedCollectorConformance,
    VenueEnvironment,
)

PLUGIN = "hayate_bybit.plugin"
FAST: dict[str, Any] = {"ping_interval": 1.0, "silence_timeout": 3.0, "reconnect_min": 0.05,
                        "reconnect_max": 0.2}
"""Reconnect settings of a local server (the defaults are Bybit's)."""

# -- bybit.replay -------------------------------------------------------------------------------


class TestReplayPackagedSample(SimulatedCollectorConformance):
    plugin = PLUGIN
    kind = "bybit.replay"
    config: ClassVar[dict[str, Any]] = {"path": "sample:spot-btcusdt-ethusdt"}


class TestReplayLinearRecording(SimulatedCollectorConformance):
    plugin = PLUGIN
    kind = "bybit.replay"
    config: ClassVar[dict[str, Any]] = {
        "path": str(RECORDINGS_DIR / "bybit_linear_4sym_ob1_2025-06-13.jsonl")}


class TestReplayTradeHistory(SimulatedCollectorConformance):
    plugin = PLUGIN
    kind = "bybit.replay"
    config: ClassVar[dict[str, Any]] = {
        "path": str(RECORDINGS_DIR / "bybit_spot_trades_1INCHUSDT_2025-05-19.csv"),
        "category": "spot",
        "instruments": {"1INCHUSDT": {"tick_size": "0.0001", "qty_step": "0.01"}}}


# -- bybit.public --------------------------------------------------------------------------------


class TestPublicStream(LiveCollectorConformance):
    """Books, trades, tickers and klines of two spot symbols, from recorded frames."""

    plugin = PLUGIN
    kind = "bybit.public"
    config: ClassVar[dict[str, Any]] = {"symbols": ["BTCUSDT", "ETHUSDT"], "category": "spot",
                                        "depth": 200, "tickers": True, "klines": ["1"],
                                        **FAST}
    min_events = 100

    @contextlib.asynccontextmanager
    async def environment(self) -> AsyncIterator[LiveSource]:
        frames = (RECORDINGS_DIR / "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl"
                  ).read_text().splitlines()
        items = [instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
                 instrument_item("spot", "ETHUSDT", "0.01", "0.00001")]
        async with PublicServer("spot", frames=[f for f in frames if f.strip()],
                                instruments=items) as server:
            yield LiveSource(config={"ws_url": server.ws_url, "rest_url": server.rest_url},
                             feed=server.play, connections=lambda: len(server.conns))


# -- bybit.private and bybit.orders, on the local exchange ------------------------------------------


class LocalExchange:
    """The local exchange of ``conftest.LiveKit``, with the account's keys in the
    environment (the ``live`` fixture sets them)."""

    kit: Any

    @pytest.fixture(autouse=True)
    def _local_exchange(self, live: Any) -> None:
        self.kit = live


class TestPrivateStream(LocalExchange, LiveCollectorConformance):
    """Own orders, executions, positions, balances: an order placed over REST once the
    stream is up must come back on it."""

    plugin = PLUGIN
    kind = "bybit.private"
    config: ClassVar[dict[str, Any]] = {"environment": "testnet", **FAST,
                                        "catch_up_margin": 2.0}
    min_events = 3

    @contextlib.asynccontextmanager
    async def environment(self) -> AsyncIterator[LiveSource]:
        from hayate_paper.bybit_server.testing import SignedRest

        async with self.kit.exchange() as server:
            rest = SignedRest(server.base_url, self.kit.api_key, self.kit.api_secret)

            async def place() -> None:
                reply = await rest.order(side="Buy", qty="0.001", price="29000.0",
                                         orderLinkId="conformance-private")
                assert reply["retCode"] == 0, reply

            try:
                yield LiveSource(
                    config={"environment": "local", "rest_url": server.base_url},
                    feed=place,
                    connections=lambda: sum(1 for c in server.conns if c.kind == "private"))
            finally:
                await rest.aclose()


class BybitOrdersSuite(LocalExchange, ExecutorConformance):
    """``bybit.orders`` wrapping ``bybit.private``, the probe reading ``bybit.public``'s
    book, all three on the local exchange."""

    plugin = PLUGIN
    kind = "bybit.orders"
    wiring: ClassVar[dict[str, Any]] = {"private": "private"}
    symbol = "BTCUSDT"
    price = Decimal("29000.0")  # the book is 30000.0 / 30000.5: the bids rest

    @contextlib.asynccontextmanager
    async def environment(self) -> AsyncIterator[VenueEnvironment]:
        async with self.kit.exchange() as server:
            base = server.base_url
            yield VenueEnvironment(
                collectors={
                    "market": {"type": "bybit.public", "symbols": ["BTCUSDT"],
                               "ws_url": server.public_url("linear"), "rest_url": base,
                               **FAST},
                    "private": {"type": "bybit.private", "environment": "local",
                                "rest_url": base, **FAST},
                },
                executor={"environment": "local", "rest_url": base, **FAST})


class TestOrdersOverRest(BybitOrdersSuite):
    config: ClassVar[dict[str, Any]] = {"environment": "testnet", "symbols": ["BTCUSDT"],
                                        "transport": "rest"}


class TestOrdersOverTheTradeSocket(BybitOrdersSuite):
    config: ClassVar[dict[str, Any]] = {"environment": "testnet", "symbols": ["BTCUSDT"],
                                        "transport": "ws"}
