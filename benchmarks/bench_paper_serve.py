"""The local Bybit server (``hayate paper serve``): what it adds on top of the paper exchange.

    python benchmarks/bench_paper_serve.py [--events 200000] [--requests 2000]

1. **Market fan-out** (no network): a seeded ``sim.market`` stream applied by the server's
   ``Market`` (the public book, trades and 24 h figures, one account's paper exchange, and
   a subscribed ``orderbook.50`` topic computing its delta after every batch of 10
   events), against the baseline of the paper exchange alone applying the same events.
2. **REST order round trip** (loopback): signed ``order/create`` + ``order/cancel`` pairs
   over one keep-alive connection, against the baseline of unsigned ``market/time``
   requests to the same server (the HTTP floor: client, aiohttp, envelope).

Reported as events (requests) per second and as ratios to the baseline of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from decimal import Decimal
from typing import Any

from hayate.clock import WallClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import Event
from hayate.instruments import InstrumentRegistry
from hayate_paper.account import Account
from hayate_paper.bybit_server import BybitServer, load_config
from hayate_paper.bybit_server.accounts import ExchangeAccount
from hayate_paper.bybit_server.config import AccountConfig, ExchangeOptions
from hayate_paper.bybit_server.market import Market
from hayate_paper.bybit_server.public_ws import BookTopic
from hayate_paper.exchange import PaperExchange
from hayate_paper.fees import FeeSchedule
from hayate_paper.market import SimMarket, SimMarketConfig
from hayate_paper.queue import make_queue_model
from hayate_paper.rules import VenueRules


def sim_events(n: int) -> tuple[InstrumentRegistry, list[Event]]:
    reg = InstrumentRegistry()
    bot = BotContext(name="bench", clock=WallClock(), seed=1, out_dir=None, mode="paper",
                     client_ids=ClientIdFactory("b"), instruments=reg)
    ctx = ComponentContext(bot, "market", "sim.market", "collectors")
    sim = SimMarket("market", SimMarketConfig(type="sim.market", trade_rate=20.0,
                                              duration=36_000.0), ctx)
    reg.add(sim.instrument)
    events = []
    for ev in sim.events():
        events.append(ev)
        if len(events) >= n:
            break
    return reg, events


class _Sink:
    def __init__(self) -> None:
        self.skip: set[str] = set()
        self.frames = 0

    def send(self, text: str) -> None:
        self.frames += 1


def bench_fanout(n: int) -> None:
    reg, events = sim_events(n)
    batches = [events[i:i + 10] for i in range(0, len(events), 10)]

    def baseline() -> float:
        ex = PaperExchange(instruments=reg, account=Account({"USDT": Decimal(10**6)},
                                                            FeeSchedule(), Decimal(10)),
                           rules=VenueRules(), queue=make_queue_model("conservative", random.Random(1)),
                           response_latency=lambda: 0)
        ex.state("BTCUSDT")
        t0 = time.perf_counter()
        t = 1
        for batch in batches:
            for ev in batch:
                ex.on_market(ev, t)
            t += 1
        return time.perf_counter() - t0

    def server() -> float:
        market = Market(reg)
        acct = ExchangeAccount(AccountConfig(api_key="k", api_secret="s"), 1, market,
                               ExchangeOptions())
        market.listeners.append(acct.on_market)
        topic = BookTopic(market.symbols["BTCUSDT"], 50)
        sink = _Sink()
        topic.subs.add(sink)  # type: ignore[arg-type]
        market.apply(batches[0][:1], 1)
        sink.send(topic.snapshot_now())
        t0 = time.perf_counter()
        t = 2
        for batch in batches:
            market.apply(batch, t)
            topic.publish()
            t += 1
        return time.perf_counter() - t0

    base = min(baseline() for _ in range(3))
    full = min(server() for _ in range(3))
    print(f"market fan-out, {len(events)} sim.market events in batches of 10:")
    print(f"  paper exchange alone (baseline): {len(events) / base:12,.0f} events/s")
    print(f"  server: market + account + orderbook.50 topic: {len(events) / full:12,.0f} events/s"
          f"  ({full / base:.2f}x the baseline's time)")


async def bench_rest(n: int) -> None:
    import httpx

    from hayate_bybit.auth import rest_headers

    cfg = load_config({
        "server": {"port": 0},
        "instruments": [{"symbol": "BTCUSDT", "tick_size": "0.1", "qty_step": "0.001",
                         "min_notional": "5", "bids": [["100.0", "5"]], "asks": [["100.1", "5"]]}],
        "accounts": [{"api_key": "k", "api_secret": "s"}],
        "rate_limits": {"/v5/order/create": 1_000_000, "/v5/order/cancel": 1_000_000},
    })
    async with BybitServer(cfg) as srv, httpx.AsyncClient(base_url=srv.base_url) as c:
        async def floor() -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                r = await c.get("/v5/market/time")
                assert r.status_code == 200
            return time.perf_counter() - t0

        async def orders() -> float:
            t0 = time.perf_counter()
            for _ in range(n // 2):
                body = json.dumps({"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                   "orderType": "Limit", "qty": "0.1", "price": "99.0"})
                h = rest_headers("k", "s", int(time.time() * 1000), body)
                r: Any = (await c.post("/v5/order/create", content=body, headers=h)).json()
                body = json.dumps({"category": "linear", "symbol": "BTCUSDT",
                                   "orderId": r["result"]["orderId"]})
                h = rest_headers("k", "s", int(time.time() * 1000), body)
                r = (await c.post("/v5/order/cancel", content=body, headers=h)).json()
                assert r["retCode"] == 0, r
            return time.perf_counter() - t0

        base = min([await floor() for _ in range(3)])
        full = min([await orders() for _ in range(3)])
    print(f"REST over loopback, {n} requests each:")
    print(f"  GET market/time (baseline): {n / base:8,.0f} requests/s ({base / n * 1e6:,.0f} us each)")
    print(f"  signed order/create + order/cancel: {n / full:8,.0f} requests/s "
          f"({full / n * 1e6:,.0f} us each, {full / base:.2f}x the baseline)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--requests", type=int, default=2_000)
    args = ap.parse_args()
    bench_fanout(args.events)
    asyncio.run(bench_rest(args.requests))


if __name__ == "__main__":
    main()
