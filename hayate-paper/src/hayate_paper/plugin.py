"""Hook implementations of the hayate-paper plugin (registration only)."""

from __future__ import annotations

from typing import Any

from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register


# Registered by name: a component's module is imported only when a spec uses its kind.
@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register.lazy("sim.market", "hayate_paper.market:SimMarket")


@hookimpl
def hayate_register_executors(register: Register) -> None:
    register.lazy("paper.exchange", "hayate_paper.executor:PaperExchangeExecutor")


@hookimpl
def hayate_register_commands(app: Any) -> None:
    # ``hayate paper serve`` (its Bybit code is imported only when the command runs) and
    # ``hayate calibrate``.
    from hayate_paper.bybit_server.cli import register_paper_commands
    from hayate_paper.calibration.cli import register_calibrate_command

    register_paper_commands(app)
    register_calibrate_command(app)
