"""Hook implementations: the module the ``hayate`` entry point names. Registration only."""

from __future__ import annotations

from hayate import Register, hookimpl
from hayate_example_strategy.strategy import ImbalanceJoiner


@hookimpl
def hayate_register_strategies(register: Register) -> None:
    register(ImbalanceJoiner)
