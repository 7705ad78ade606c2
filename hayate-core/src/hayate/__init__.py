"""Hayate (疾風): a framework for algorithmic trading bots.

Collector -> State -> Input -> Strategy -> Executor, wired from a TOML spec and extended by
plugins. See README.md and docs/ for the tour.

What a plugin or a strategy needs is importable from here (``from hayate import Strategy,
PlaceOrder, OrderBook``); each name is loaded on first use, so ``import hayate`` stays
cheap. The full list, with the module each name lives in, is ``hayate.API`` (and
docs/plugin-hooks.md); deeper modules are public too but change more often.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

API: dict[str, str] = {
    # component roles and their configs (hayate.types)
    "Component": "hayate.types", "ComponentConfig": "hayate.types",
    "Collector": "hayate.types", "CollectorConfig": "hayate.types",
    "State": "hayate.types", "StateConfig": "hayate.types",
    "Input": "hayate.types", "InputConfig": "hayate.types",
    "Strategy": "hayate.types", "StrategyConfig": "hayate.types",
    "Executor": "hayate.types", "ExecutorConfig": "hayate.types",
    "Emit": "hayate.types", "RunningBot": "hayate.types", "SourceWrapper": "hayate.types",
    "ShadowVenue": "hayate.types",
    "ComponentContext": "hayate.context", "Duration": "hayate.spec.models",
    # events (hayate.events)
    "Event": "hayate.events", "MarketEvent": "hayate.events", "PrivateEvent": "hayate.events",
    "BookSnapshot": "hayate.events", "BookDelta": "hayate.events", "Trade": "hayate.events",
    "Ticker": "hayate.events", "Timer": "hayate.events", "BookInvalid": "hayate.events",
    "BookReady": "hayate.events", "StreamGap": "hayate.events",
    "OrderUpdate": "hayate.events", "Fill": "hayate.events", "PositionUpdate": "hayate.events",
    "BalanceUpdate": "hayate.events", "Side": "hayate.events", "OrderStatus": "hayate.events",
    "Liquidity": "hayate.events", "VenueStatus": "hayate.events",
    # actions (hayate.actions)
    "Action": "hayate.actions", "PlaceOrder": "hayate.actions", "CancelOrder": "hayate.actions",
    "AmendOrder": "hayate.actions", "CancelAll": "hayate.actions", "OrderType": "hayate.actions",
    "TimeInForce": "hayate.actions",
    # what strategies read
    "MarketView": "hayate.view", "OrderBook": "hayate.book.book",
    "Instrument": "hayate.instruments", "InstrumentRegistry": "hayate.instruments",
    "Clock": "hayate.clock", "NS": "hayate.clock",
    # plugins
    "hookimpl": "hayate.plugins.hookspecs", "Register": "hayate.plugins.hookspecs",
    "Stash": "hayate.stash", "StashKey": "hayate.stash",
    # errors
    "HayateError": "hayate.exceptions", "ConfigError": "hayate.exceptions",
    "ComponentError": "hayate.exceptions", "InvalidNumber": "hayate.exceptions",
}
"""Public name -> the module that defines it."""

__all__ = [
    "API",
    "NS",
    "Action",
    "AmendOrder",
    "BalanceUpdate",
    "BookDelta",
    "BookInvalid",
    "BookReady",
    "BookSnapshot",
    "CancelAll",
    "CancelOrder",
    "Clock",
    "Collector",
    "CollectorConfig",
    "Component",
    "ComponentConfig",
    "ComponentContext",
    "ComponentError",
    "ConfigError",
    "Duration",
    "Emit",
    "Event",
    "Executor",
    "ExecutorConfig",
    "Fill",
    "HayateError",
    "Input",
    "InputConfig",
    "Instrument",
    "InstrumentRegistry",
    "InvalidNumber",
    "Liquidity",
    "MarketEvent",
    "MarketView",
    "OrderBook",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "PlaceOrder",
    "PositionUpdate",
    "PrivateEvent",
    "Register",
    "RunningBot",
    "ShadowVenue",
    "Side",
    "SourceWrapper",
    "Stash",
    "StashKey",
    "State",
    "StateConfig",
    "Strategy",
    "StrategyConfig",
    "StreamGap",
    "Ticker",
    "TimeInForce",
    "Timer",
    "Trade",
    "VenueStatus",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    module = API.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("hayate-core")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            v = "0.0.0"
        globals()["__version__"] = v
        return v
    raise AttributeError(f"module 'hayate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *API})


if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads lazily
    from hayate.actions import (
        Action,
        AmendOrder,
        CancelAll,
        CancelOrder,
        OrderType,
        PlaceOrder,
        TimeInForce,
    )
    from hayate.book.book import OrderBook
    from hayate.clock import NS, Clock
    from hayate.context import ComponentContext
    from hayate.events import (
        BalanceUpdate,
        BookDelta,
        BookInvalid,
        BookReady,
        BookSnapshot,
        Event,
        Fill,
        Liquidity,
        MarketEvent,
        OrderStatus,
        OrderUpdate,
        PositionUpdate,
        PrivateEvent,
        Side,
        StreamGap,
        Ticker,
        Timer,
        Trade,
        VenueStatus,
    )
    from hayate.exceptions import ComponentError, ConfigError, HayateError, InvalidNumber
    from hayate.instruments import Instrument, InstrumentRegistry
    from hayate.plugins.hookspecs import Register, hookimpl
    from hayate.spec.models import Duration
    from hayate.stash import Stash, StashKey
    from hayate.types import (
        Collector,
        CollectorConfig,
        Component,
        ComponentConfig,
        Emit,
        Executor,
        ExecutorConfig,
        Input,
        InputConfig,
        RunningBot,
        ShadowVenue,
        SourceWrapper,
        State,
        StateConfig,
        Strategy,
        StrategyConfig,
    )
    from hayate.view import MarketView

    __version__: str
