"""Hook implementations of the hayate-strategies plugin (registration only)."""

from __future__ import annotations

from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register


# Registered by name: a strategy's module is imported only when a spec uses its kind.
@hookimpl
def hayate_register_strategies(register: Register) -> None:
    register.lazy("mm.simple", "hayate_strategies.market_making.simple:SimpleMarketMaker")
    register.lazy("mm.dynamic", "hayate_strategies.market_making.dynamic:DynamicMarketMaker")
    register.lazy("mm.avellaneda",
                  "hayate_strategies.market_making.avellaneda:AvellanedaStoikov")
