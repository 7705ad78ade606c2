"""Hook implementations: the module the ``hayate`` entry point names. Registration only."""

from __future__ import annotations

from hayate import Register, hookimpl


@hookimpl
def hayate_register_strategies(register: Register) -> None:
    # By name: the strategy's module (and its pydantic config) is imported only when a spec
    # uses ``example.imbalance``, so installing this plugin does not slow `hayate --help`.
    # ``register(ImbalanceJoiner)`` with the class imported works the same, eagerly.
    register.lazy("example.imbalance", "hayate_example_strategy.strategy:ImbalanceJoiner")
