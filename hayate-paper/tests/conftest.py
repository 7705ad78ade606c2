"""Fixtures and a tiny quoting strategy for the paper exchange's engine-level tests."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from hayate.actions import Action, CancelOrder, OrderType, PlaceOrder, TimeInForce
from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Event, Fill, OrderUpdate, Side, Trade
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register
from hayate.plugins.manager import PluginManager
from hayate.types import Collector, CollectorConfig, Strategy, StrategyConfig
from hayate_paper.account import Account
from hayate_paper.exchange import PaperExchange
from hayate_paper.fees import FeeSchedule
from hayate_paper.fill_model import FillModel
from hayate_paper.queue import make_queue_model
from hayate_paper.rules import VenueRules
from hayate_testing import make_plugins


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TouchQuoterConfig(StrategyConfig):
    symbol: str = "BTCUSDT"
    qty: Decimal = Decimal("0.01")
    max_position: Decimal = Decimal("0.05")
    post_only: bool = True


class TouchQuoter(Strategy):
    """Quotes one bid at the best bid and one ask at the best ask; re-quotes (cancel and
    place) when the touch moves. Enough to exercise maker fills, cancels and inventory."""

    kind: ClassVar[str] = "test.touch_quoter"
    Config: ClassVar[type[TouchQuoterConfig]] = TouchQuoterConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.symbols = frozenset({config.symbol})
        self.quotes: dict[Side, tuple[str, Decimal]] = {}

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        c = self.config
        if not view.book_ok(c.symbol):
            return None
        book = view.book(c.symbol)
        inst = view.instrument(c.symbol)
        pos = view.position(c.symbol).size
        want = {Side.BUY: inst.price(book.best_bid), Side.SELL: inst.price(book.best_ask)}
        acts: list[Action] = []
        for side, px in want.items():
            cur = self.quotes.get(side)
            o = view.order(cur[0]) if cur else None
            live = o is not None and o.is_open
            allowed = (pos < c.max_position) if side is Side.BUY else (pos > -c.max_position)
            if live and cur is not None and (cur[1] != px or not allowed):
                acts.append(CancelOrder(symbol=c.symbol, client_id=cur[0]))
                live = False
                self.quotes.pop(side, None)
            if not live and allowed:
                cid = self.ctx.new_client_id("tq")
                tif = TimeInForce.POST_ONLY if c.post_only else TimeInForce.GTC
                acts.append(PlaceOrder(symbol=c.symbol, side=side, qty=c.qty, price=px,
                                       time_in_force=tif, client_id=cid))
                self.quotes[side] = (cid, px)
        return acts


class _TestPlugin:
    @staticmethod
    @hookimpl
    def hayate_register_strategies(register: Register) -> None:
        register(TouchQuoter)
        register(PlanStrategy)

    @staticmethod
    @hookimpl
    def hayate_register_collectors(register: Register) -> None:
        register(ScriptedSource)


def paper_plugins() -> PluginManager:
    pm = make_plugins(extra=["hayate_paper.plugin"])
    pm.add_plugin("paper_tests", plugin=_TestPlugin, distribution="hayate-paper-tests")
    return pm


@pytest.fixture
def plugins() -> PluginManager:
    return paper_plugins()


# -- a scripted simulated source ------------------------------------------------------------------

SCRIPTS: dict[str, list[Event]] = {}
"""Event lists for ``test.script`` collectors, by name (tests fill it before a run)."""


class ScriptConfig(CollectorConfig):
    script: str
    symbol: str = "BTCUSDT"
    category: str = "linear"


class ScriptedSource(Collector):
    """Simulated collector replaying ``SCRIPTS[config.script]``, with the test instrument."""

    kind: ClassVar[str] = "test.script"
    Config: ClassVar[type[ScriptConfig]] = ScriptConfig
    simulated: ClassVar[bool] = True

    async def setup(self) -> None:
        self.ctx.instruments.add(make_instrument(self.config.symbol, self.config.category))

    def events(self) -> Iterator[Event]:
        return iter(SCRIPTS[self.config.script])


class RecorderStrategyConfig(StrategyConfig):
    """Records what it sees; sends ``plan[i]`` actions on the i-th market event."""

    plan: str = ""


PLANS: dict[str, dict[int, list[Action]]] = {}
SEEN: dict[str, list[tuple[int, Event]]] = {}


class PlanStrategy(Strategy):
    kind: ClassVar[str] = "test.plan"
    Config: ClassVar[type[RecorderStrategyConfig]] = RecorderStrategyConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.n_market = 0
        SEEN[config.plan] = self.seen = []

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        self.seen.append((self.ctx.clock.now(), event))
        if event.private:
            return None
        acts = PLANS.get(self.config.plan, {}).get(self.n_market)
        self.n_market += 1
        return acts


def make_instrument(symbol: str = "BTCUSDT", category: str = "linear") -> Instrument:
    return Instrument(symbol=symbol, category=category, tick_size=Decimal("0.1"),  # type: ignore[arg-type]
                      qty_step=Decimal("0.001"), min_qty=Decimal("0.001"),
                      min_notional=Decimal("5"))


# -- a venue driven by hand -------------------------------------------------------------------------

T0 = 1_700_000_000 * NS


class Venue:
    """A :class:`PaperExchange` fed by hand; prices and sizes in human decimals."""

    def __init__(self, category: str = "linear", *, balances: dict[str, str] | None = None,
                 queue: str = "conservative", seed: int = 1, leverage: str = "10",
                 fill_on_cross: bool = True, fees: FeeSchedule | None = None,
                 response_latency: int = 0, fill_model: FillModel | None = None) -> None:
        self.inst = make_instrument("BTCUSDT", category)
        reg = InstrumentRegistry([self.inst])
        self.account = Account({k: Decimal(v) for k, v in (balances or {"USDT": "100000"}).items()},
                               fees or FeeSchedule(), Decimal(leverage))
        self.ex = PaperExchange(
            instruments=reg, account=self.account, rules=VenueRules(),
            queue=make_queue_model(queue, random.Random(seed)),
            response_latency=lambda: response_latency, fill_on_cross=fill_on_cross,
            fill_model=fill_model)
        self.t = T0
        self.n = 0
        self.trades_fed: list[Trade] = []

    def _p(self, price: str) -> int:
        return self.inst.price_units(Decimal(price))

    def _q(self, qty: str) -> int:
        return self.inst.qty_units(Decimal(qty))

    def tick(self, dt: int = 1_000_000) -> int:
        self.t += dt
        return self.t

    def snapshot(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        self.ex.on_market(BookSnapshot(symbol="BTCUSDT", ts=self.tick(),
                                       bids=[(self._p(p), self._q(q)) for p, q in bids],
                                       asks=[(self._p(p), self._q(q)) for p, q in asks]), self.t)

    def delta(self, bids: list[tuple[str, str]] = (), asks: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        self.ex.on_market(BookDelta(symbol="BTCUSDT", ts=self.tick(),
                                    bids=[(self._p(p), self._q(q)) for p, q in bids],
                                    asks=[(self._p(p), self._q(q)) for p, q in asks]), self.t)

    def trade(self, price: str, qty: str, aggressor: Side) -> None:
        tr = Trade(symbol="BTCUSDT", ts=self.tick(), price=self._p(price), qty=self._q(qty),
                   side=aggressor)
        self.trades_fed.append(tr)
        self.ex.on_market(tr, self.t)

    def place(self, side: Side, qty: str, price: str | None = None, *,
              tif: TimeInForce = TimeInForce.GTC, market: bool = False,
              reduce_only: bool = False, cid: str | None = None) -> str:
        self.n += 1
        cid = cid or f"c{self.n}"
        self.ex.on_action(PlaceOrder(
            symbol="BTCUSDT", side=side, qty=Decimal(qty),
            price=None if price is None else Decimal(price),
            order_type=OrderType.MARKET if market else OrderType.LIMIT, time_in_force=tif,
            reduce_only=reduce_only, client_id=cid), self.tick())
        return cid

    def act(self, action: Action) -> None:
        self.ex.on_action(action, self.tick())

    def events(self) -> list[Event]:
        return [e for _, _, e in self.ex.responses]

    def fills(self, cid: str | None = None) -> list[Fill]:
        return [e for e in self.events() if isinstance(e, Fill) and (cid is None or e.client_id == cid)]

    def updates(self, cid: str) -> list[OrderUpdate]:
        return [e for e in self.events() if isinstance(e, OrderUpdate) and e.client_id == cid]

    def last(self, cid: str) -> OrderUpdate:
        return self.updates(cid)[-1]

    def filled(self, cid: str) -> Decimal:
        return sum((f.qty for f in self.fills(cid)), Decimal(0))

    def ahead(self, cid: str) -> Decimal:
        return self.inst.qty(self.ex.orders[cid].ahead)


@pytest.fixture
def venue() -> Venue:
    v = Venue()
    v.snapshot(bids=[("100.0", "2"), ("99.9", "3"), ("99.8", "4")],
               asks=[("100.1", "1"), ("100.2", "2"), ("100.3", "5")])
    return v


@pytest.fixture
def make_venue() -> type[Venue]:
    return Venue


@pytest.fixture
def sim(plugins: PluginManager) -> Any:
    """``sim(name, events, plan, **venue_config)``: run the scripted source through
    ``paper.exchange`` with a ``test.plan`` strategy; returns (what the bot saw, result)."""
    from hayate_testing import run_spec_dict

    def run(name: str, events: list[Event], plan: dict[int, list[Action]],
            **venue: Any) -> tuple[list[tuple[int, Event]], Any]:
        SCRIPTS[name] = events
        PLANS[name] = plan
        spec = {
            "name": "t",
            "collectors": {"market": {"type": "test.script", "script": name}},
            "strategies": {"bot": {"type": "test.plan", "inputs": ["market"], "plan": name}},
            "executors": {"venue": {"type": "paper.exchange", "source": "market", **venue}},
        }
        result, _ = run_spec_dict(spec, plugins)
        assert result.exit_code == 0, result.exit_reason
        return SEEN[name], result

    return run


@pytest.fixture
def plans() -> dict[str, dict[int, list[Action]]]:
    """What ``test.plan`` strategies send, by plan name."""
    return PLANS


@pytest.fixture
def seen() -> dict[str, list[tuple[int, Event]]]:
    """What ``test.plan`` strategies saw (clock time, event), by plan name."""
    return SEEN


@pytest.fixture
def scripts() -> dict[str, list[Event]]:
    """Event lists ``test.script`` collectors replay, by script name."""
    return SCRIPTS
