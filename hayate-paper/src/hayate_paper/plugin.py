"""Hook implementations of the hayate-paper plugin (registration only)."""

from __future__ import annotations

from typing import Any

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


@hookimpl
def hayate_register_commands(app: Any) -> None:
    # ``hayate paper serve`` (its Bybit code is imported only when the command runs) and
    # ``hayate calibrate``.
    from hayate_paper.bybit_server.cli import register_paper_commands
    from hayate_paper.calibration.cli import register_calibrate_command

    register_paper_commands(app)
    register_calibrate_command(app)
