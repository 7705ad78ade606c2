"""Fixtures and a tiny quoting strategy for the paper exchange's engine-level tests."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from hayate.actions import Action, CancelOrder, PlaceOrder, TimeInForce
from hayate.events import Event, Side
from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register
from hayate.plugins.manager import PluginManager
from hayate.types import Strategy, StrategyConfig
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


def paper_plugins() -> PluginManager:
    pm = make_plugins(extra=["hayate_paper.plugin"])
    pm.add_plugin("paper_tests", plugin=_TestPlugin, distribution="hayate-paper-tests")
    return pm


@pytest.fixture
def plugins() -> PluginManager:
    return paper_plugins()
