"""Drive a ``bybit.public`` collector against a :class:`PublicServer` in tests.

Reusable outside this package's tests (e.g. by paper-trading tests): the harness builds
the collector with a real component context, applies every emitted event to the real
``core.orderbook`` state, and compares books with the server's true book.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio

from hayate.book.state import OrderBookState, OrderBookStateConfig
from hayate.clock import Clock, WallClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import Event
from hayate.instruments import Instrument
from hayate_bybit.collectors.public import BybitPublic, BybitPublicConfig
from hayate_bybit.testing.public_server import PublicServer, TrueBook

__all__ = ["CollectorHarness", "instrument_item", "make_context", "reference"]


def instrument_item(category: str, symbol: str, tick: str, step: str,
                    min_qty: str | None = None) -> dict[str, Any]:
    """An instruments-info ``result.list`` item in Bybit's shape (fields we read, plus a few)."""
    base = symbol.removesuffix("USDT")
    lot: dict[str, Any]
    if category == "spot":
        lot = {"basePrecision": step, "quotePrecision": "0.0000001", "minOrderQty": step,
               "maxOrderQty": "1000000", "minOrderAmt": "5", "maxOrderAmt": "8000000",
               "maxLimitOrderQty": "1000000", "maxMarketOrderQty": "500000",
               "postOnlyMaxLimitOrderSize": "1000000"}
    else:
        lot = {"maxOrderQty": "1000000", "minOrderQty": min_qty or step, "qtyStep": step,
               "postOnlyMaxOrderQty": "1000000", "maxMktOrderQty": "500000",
               "minNotionalValue": "5"}
    return {"symbol": symbol, "status": "Trading", "baseCoin": base, "quoteCoin": "USDT",
            "settleCoin": "" if category == "spot" else "USDT",
            "contractType": "" if category == "spot" else "LinearPerpetual",
            "priceFilter": {"minPrice": tick, "maxPrice": "1999999", "tickSize": tick},
            "lotSizeFilter": lot}


def reference(book: TrueBook, inst: Instrument) -> tuple[dict[int, int], dict[int, int]]:
    """The server's true book in the instrument's units."""
    return ({inst.price_units(p): inst.qty_units(q) for p, q in book.bids.items()},
            {inst.price_units(p): inst.qty_units(q) for p, q in book.asks.items()})


def make_context(id: str = "market", kind: str = "bybit.public", role: str = "collectors",
                 bot: BotContext | None = None, clock: Clock | None = None) -> ComponentContext:
    """A component context on the wall clock (or ``clock``), as the engine would build it."""
    bot = bot or BotContext(name="test", clock=clock or WallClock(), seed=1, out_dir=None,
                            mode="paper", client_ids=ClientIdFactory("t"))
    return ComponentContext(bot, id, kind, role)


class CollectorHarness:
    """A ``bybit.public`` collector against a :class:`PublicServer`, its events applied to
    the real ``core.orderbook`` state (what a strategy reads).

    ``clock``: the collector's clock (default: the wall clock). A test of silence or
    timeouts passes a clock whose durations it steps (``hayate_testing.StepClock``), so a
    slow machine cannot make a silence that the test did not.
    """

    def __init__(self, server: PublicServer, *, clock: Clock | None = None,
                 **config: Any) -> None:
        self.server = server
        self.ctx = make_context(clock=clock)
        defaults: dict[str, Any] = dict(
            ws_url=server.ws_url, rest_url=server.rest_url, category=server.category,
            ping_interval=5.0, silence_timeout=5.0, reconnect_min=0.01, reconnect_max=0.05)
        defaults.update(config)
        self.config = BybitPublicConfig(type="bybit.public", **defaults)
        self.collector = BybitPublic("market", self.config, self.ctx)
        self.state = OrderBookState(
            "books", OrderBookStateConfig(type="core.orderbook", sources=["market"]),
            make_context("books", "core.orderbook", "states", self.ctx.bot))
        self.events: list[Event] = []
        self._changed = anyio.Event()
        self.gate: anyio.Event | None = None  # when set to an unset Event, emit waits on it
        self.held = anyio.Event()  # set once emit is waiting at the gate (a stuck consumer)

    async def emit(self, events: Sequence[Event]) -> None:
        if self.gate is not None:
            self.held.set()
            await self.gate.wait()
        for ev in events:
            self.events.append(ev)
            self.state.apply(ev)
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 30.0) -> None:
        with anyio.fail_after(within):
            while not predicate():
                await self._changed.wait()

    def count(self, name: str) -> float:
        return self.ctx.metrics.counter_total(name)

    def of(self, kind: type, symbol: str | None = None) -> list[Any]:
        return [e for e in self.events if type(e) is kind
                and (symbol is None or getattr(e, "symbol", None) == symbol)]

    def synced(self, topic: str) -> bool:
        """The client's book is valid and at the server's latest ``u``."""
        sym = topic.rpartition(".")[2]
        book = self.state.books.get(sym)
        truth = self.server.books.get(topic)
        return (book is not None and truth is not None and book.valid
                and book.update_id == truth.u)

    def assert_matches(self, topic: str) -> None:
        sym = topic.rpartition(".")[2]
        book = self.state.book(sym)
        bids, asks = reference(self.server.book(topic), self.ctx.instruments[sym])
        assert book.valid, f"{sym}: book not valid"
        assert book.bids == bids
        assert book.asks == asks
        assert not book.crossed
        book.check()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[CollectorHarness]:
        await self.collector.setup()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.collector.run, self.emit)
            with anyio.fail_after(30):
                await self.ctx.ready_event.wait()
            yield self
            tg.cancel_scope.cancel()
