"""Hook implementations: this module is what the ``hayate`` entry point names."""

from __future__ import annotations

from hayate import Register, hookimpl
from hayate_example_plugin.components import Heartbeat, LogExecutor, Ping


@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register(Heartbeat)


@hookimpl
def hayate_register_strategies(register: Register) -> None:
    register(Ping)


@hookimpl
def hayate_register_executors(register: Register) -> None:
    register(LogExecutor)
