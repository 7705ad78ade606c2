"""Hook implementations of the hayate-bybit plugin (registration only)."""

from __future__ import annotations

from typing import Any

from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register


@hookimpl
def hayate_register_collectors(register: Register) -> None:
    from hayate_bybit.collectors.public import BybitPublic
    from hayate_bybit.collectors.replay import BybitReplay
    from hayate_bybit.private.collector import BybitPrivate

    register(BybitPublic)
    register(BybitReplay)
    register(BybitPrivate)


@hookimpl
def hayate_register_executors(register: Register) -> None:
    from hayate_bybit.trade.executor import BybitOrders

    register(BybitOrders)


@hookimpl
def hayate_register_commands(app: Any) -> None:
    from hayate_bybit.cli import register_record_command
    from hayate_bybit.data_cli import register_data_commands

    register_record_command(app)
    register_data_commands(app)
