"""Fixtures for the local Bybit server's tests: a hand-driven market, signed requests,
and the real Bybit samples to compare shapes with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.config import ServerConfig
from hayate_paper.bybit_server.testing import SignedRest, local_config, ws_clients


@pytest.fixture(scope="session")
def sample() -> Callable[[str], Any]:
    """``sample("rest_order_realtime.json")``: one real Bybit message."""
    from hayate_bybit.testing.samples import sample as load

    return load


@pytest.fixture
def config() -> ServerConfig:
    return local_config()


@pytest.fixture
async def server(config: ServerConfig) -> AsyncIterator[BybitServer]:
    async with BybitServer(config) as s:
        yield s


@pytest.fixture
async def rest(server: BybitServer) -> AsyncIterator[SignedRest]:
    r = SignedRest(server.base_url)
    yield r
    await r.aclose()


@pytest.fixture
async def ws_connect() -> AsyncIterator[Callable[[str], Any]]:
    """``await ws_connect(url)`` -> a WsClient (closed at the end of the test)."""
    async with ws_clients() as connect:
        yield connect

