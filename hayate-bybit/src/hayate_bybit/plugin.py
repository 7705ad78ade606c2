"""Hook implementations of the hayate-bybit plugin (registration only)."""

from __future__ import annotations

from typing import Any

from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register


# Registered by name: a component's module is imported only when a spec uses its kind.
@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register.lazy("bybit.public", "hayate_bybit.collectors.public:BybitPublic")
    register.lazy("bybit.replay", "hayate_bybit.collectors.replay:BybitReplay")
    register.lazy("bybit.private", "hayate_bybit.private.collector:BybitPrivate")


@hookimpl
def hayate_register_executors(register: Register) -> None:
    register.lazy("bybit.orders", "hayate_bybit.trade.executor:BybitOrders")


@hookimpl
def hayate_register_commands(app: Any) -> None:
    from hayate_bybit.cli import register_record_command
    from hayate_bybit.data_cli import register_data_commands

    register_record_command(app)
    register_data_commands(app)
