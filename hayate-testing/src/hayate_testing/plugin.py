"""Registers the fake ``testing.*`` kinds. Not an entry point: tests add it explicitly."""

from __future__ import annotations

from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register
from hayate_testing.components import (
    CountingState,
    EveryEvent,
    Journal,
    LiveTicks,
    Probe,
    Quoter,
    Recorder,
    SimTicks,
)


@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register(SimTicks)
    register(EveryEvent)
    register(LiveTicks)


@hookimpl
def hayate_register_states(register: Register) -> None:
    register(CountingState)
    register(Journal)


@hookimpl
def hayate_register_strategies(register: Register) -> None:
    register(Quoter)
    register(Probe)


@hookimpl
def hayate_register_executors(register: Register) -> None:
    register(Recorder)
