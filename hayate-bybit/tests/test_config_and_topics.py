"""Config validation, topic packing, instruments-info conversion, plugin registration, and a
live engine run of ``bybit.public`` against the local server."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from pydantic import ValidationError

from hayate.book.state import OrderBookState
from hayate_bybit.collectors.public import BybitPublicConfig, heartbeat
from hayate_bybit.config import public_ws_url, rest_url
from hayate_bybit.schemas.market import instrument_from_info
from hayate_bybit.testing import PublicServer, instrument_item
from hayate_bybit.ws.topics import public_topics, split_by_connection, subscribe_requests
from hayate_testing import make_plugins
from hayate_testing.harness import run_spec_dict_async


def cfg(**kw: object) -> BybitPublicConfig:
    return BybitPublicConfig(type="bybit.public", **kw)  # type: ignore[arg-type]


def test_config_defaults_and_validation() -> None:
    c = cfg(symbols=["btcusdt", " ethusdt"])
    assert c.symbols == ["BTCUSDT", "ETHUSDT"] and c.depth == 50 and c.category == "linear"
    for bad in ({"symbols": []}, {"symbols": ["A", "A"]}, {"symbols": ["A"], "depth": 500},
                {"symbols": ["A"], "overflow": "drop_oldest"},
                {"symbols": ["A"], "depth": 0, "trades": False},
                {"symbols": ["A"], "category": "option"},
                {"symbols": ["A"], "klines": ["2"]}):
        with pytest.raises(ValidationError):
            cfg(**bad)


def test_urls() -> None:
    assert public_ws_url("spot") == "wss://stream.bybit.com/v5/public/spot"
    assert public_ws_url("linear", testnet=True) == \
        "wss://stream-testnet.bybit.com/v5/public/linear"
    assert rest_url(True) == "https://api-testnet.bybit.com"
    assert json.loads(heartbeat())["op"] == "ping"


def test_topics_per_symbol() -> None:
    assert public_topics("BTCUSDT", depth=50, trades=True, tickers=True, klines=["1", "D"]) == [
        "orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT",
        "kline.D.BTCUSDT"]


def test_connections_respect_the_args_length_limit() -> None:
    groups = [public_topics(f"SYM{i:04d}USDT", depth=200, tickers=True) for i in range(600)]
    conns = split_by_connection(groups)
    assert len(conns) > 1
    for topics in conns:
        assert len(msgspec.json.encode(topics)) <= 21_000
    assert [t for c in conns for t in c] == [t for g in groups for t in g]
    # A symbol's topics never straddle two connections.
    for c in conns:
        assert len(c) % 3 == 0


def test_spot_subscribes_ten_topics_per_request() -> None:
    topics = [f"publicTrade.S{i}" for i in range(25)]
    made = subscribe_requests(topics, 10)
    reqs = [json.loads(text) for _, _, text in made]
    assert [len(r["args"]) for r in reqs] == [10, 10, 5]
    assert all(r["op"] == "subscribe" for r in reqs)
    assert [r["req_id"] for r in reqs] == [req_id for req_id, _, _ in made]
    assert len({r["req_id"] for r in reqs}) == 3
    assert [chunk for _, chunk, _ in made] == [r["args"] for r in reqs]


def test_instruments_from_bybit_items(samples: Path) -> None:
    def first(name: str) -> dict:  # type: ignore[type-arg]
        return json.loads((samples / name).read_text())["result"]["list"][0]  # type: ignore[no-any-return]

    lin = instrument_from_info(first("rest_instruments_info_linear.json"), "linear")
    assert (lin.tick_size, lin.qty_step, lin.min_qty, lin.min_notional) == (
        Decimal("0.10"), Decimal("0.001"), Decimal("0.001"), Decimal(5))
    assert (lin.price_decimals, lin.qty_decimals, lin.settle) == (1, 3, "USDT")
    spot = instrument_from_info(first("rest_instruments_info_spot.json"), "spot")
    assert (spot.qty_step, spot.min_notional, spot.min_qty) == (
        Decimal("0.000001"), Decimal(5), Decimal(0))  # spot checks the notional
    inv = instrument_from_info(first("nautilus/http_get_instruments_inverse.json"), "inverse")
    assert (inv.tick_size, inv.tick_units, inv.settle) == (Decimal("0.5"), 5, "BTC")
    opt = instrument_from_info(first("rest_instruments_info_option.json"), "option")
    assert opt.qty_step > 0


def test_plugin_registers_kinds_and_command() -> None:
    pm = make_plugins(["hayate_bybit.plugin"])
    assert pm.registry.get("collectors", "bybit.public") is not None
    assert pm.registry.get("collectors", "bybit.replay") is not None
    import typer

    app = typer.Typer()
    assert pm.register_commands(app) == []
    assert "record" in [c.callback.__name__ for c in app.registered_commands]


@pytest.mark.anyio
async def test_live_engine_run(recordings: Path, tmp_path: Path) -> None:
    frames = (recordings / "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl").read_text()
    items = [instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
             instrument_item("spot", "ETHUSDT", "0.01", "0.00001")]
    async with PublicServer("spot", frames=frames.splitlines(), instruments=items) as server:
        spec = {
            "spec_version": 1, "name": "live-books",
            "engine": {"duration": 0.5, "ready_timeout": 60},
            "collectors": {"market": {"type": "bybit.public", "category": "spot",
                                      "symbols": ["BTCUSDT", "ETHUSDT"], "depth": 200,
                                      "ws_url": server.ws_url, "rest_url": server.rest_url}},
            "states": {"books": {"type": "core.orderbook", "sources": ["market"]}},
        }
        result, runtime = await run_spec_dict_async(spec, make_plugins(["hayate_bybit.plugin"]),
                                                    out_dir=tmp_path)
    assert result.exit_code == 0, result.exit_reason
    books = runtime.components["books"]
    assert isinstance(books, OrderBookState)
    assert books.book("BTCUSDT").valid and books.book("ETHUSDT").valid
    summary = result.summary["components"]["market"]
    assert summary["connects"] == 1 and summary["frames"] >= 3
