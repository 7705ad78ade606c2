"""Hook implementations of the hayate-paper plugin (registration only)."""

from __future__ import annotations

from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register
from hayate_paper.executor import PaperExchangeExecutor
from hayate_paper.market import SimMarket


@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register(SimMarket)


@hookimpl
def hayate_register_executors(register: Register) -> None:
    register(PaperExchangeExecutor)
