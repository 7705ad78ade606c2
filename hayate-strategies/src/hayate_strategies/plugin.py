"""Hook implementations of the hayate-strategies plugin (registration only)."""

from __future__ import annotations

from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register
from hayate_strategies.market_making import (
    AvellanedaStoikov,
    DynamicMarketMaker,
    SimpleMarketMaker,
)


@hookimpl
def hayate_register_strategies(register: Register) -> None:
    register(SimpleMarketMaker)
    register(DynamicMarketMaker)
    register(AvellanedaStoikov)
