"""Hayate core's own plugin: registers the core components through the same hooks a
third-party plugin uses (``[project.entry-points.hayate] core = "hayate.plugins.builtin"``)."""

from __future__ import annotations

from hayate.book.state import OrderBookState
from hayate.orders.state import AccountState
from hayate.plugins.hookspecs import Register, hookimpl
from hayate.timer import TimerCollector
from hayate.view import MarketView


@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register(TimerCollector)


@hookimpl
def hayate_register_states(register: Register) -> None:
    register(OrderBookState)
    register(AccountState)


@hookimpl
def hayate_register_inputs(register: Register) -> None:
    register(MarketView)
