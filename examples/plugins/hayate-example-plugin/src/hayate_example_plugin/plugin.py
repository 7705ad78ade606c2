"""Hook implementations: this module is what the ``hayate`` entry point names."""

from __future__ import annotations

from hayate import Register, hookimpl

# Registered by name ("module:Class"): the components' module is imported only when a spec
# uses one of their kinds, so `hayate --help` stays fast with many plugins installed.
# ``register(Heartbeat)`` (the class itself) works too.


@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register.lazy("example.heartbeat", "hayate_example_plugin.components:Heartbeat")


@hookimpl
def hayate_register_strategies(register: Register) -> None:
    register.lazy("example.ping", "hayate_example_plugin.components:Ping")


@hookimpl
def hayate_register_executors(register: Register) -> None:
    register.lazy("example.log", "hayate_example_plugin.components:LogExecutor")
