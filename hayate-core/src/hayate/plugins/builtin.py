"""Hayate core's own plugin: registers the core components through the same hooks a
third-party plugin uses (``[project.entry-points.hayate] core = "hayate.plugins.builtin"``)."""

from __future__ import annotations

from typing import Any

from hayate.book.state import OrderBookState
from hayate.orders.state import AccountState
from hayate.plugins.hookspecs import Register, hookimpl
from hayate.risk.engine import RiskEngine
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


@hookimpl(trylast=True)
def hayate_check_action(action: Any, context: Any) -> str | None:
    """Core's risk engine, after any plugin's own checks (it records what it lets through)."""
    if isinstance(context, RiskEngine):
        return context.check(action)
    return None


@hookimpl
def hayate_bot_starting(bot: Any) -> None:
    """Operator tools on the observer API: the journal (and restart recovery), shadow mode's
    twins (when the spec has any), the metrics endpoint, and the status display (a panel
    when the CLI gives a terminal console)."""
    from hayate.journal.recorder import JOURNAL, attach_journal
    from hayate.metrics_http import attach_metrics
    from hayate.status.monitor import STATUS_CONSOLE, attach_status

    journal = attach_journal(bot)
    if journal is not None:
        bot.stash[JOURNAL] = journal
    if bot.shadows:  # imported only for a bot that has twins
        from hayate.shadow.runner import attach_shadow

        attach_shadow(bot)
    attach_metrics(bot)
    attach_status(bot, bot.stash.get(STATUS_CONSOLE))


@hookimpl
def hayate_bot_stopped(bot: Any, summary: dict[str, Any]) -> None:
    """Add the risk engine's figures (mode, breaker trips, P&L, drawdown) to summary.json;
    finish shadow mode's twins (their comparison goes to summary.json and the journal);
    commit and close the journal (its figures go to summary.json too)."""
    risk = getattr(bot, "risk_context", None)
    if isinstance(risk, RiskEngine) and (risk.active or risk.trips):
        summary["risk"] = risk.summary()
    from hayate.journal.recorder import JOURNAL

    if bot.shadows:
        from hayate.shadow.runner import SHADOW

        shadow = bot.stash.get(SHADOW)
        if shadow is not None:
            shadow.stop(summary)

    journal = bot.stash.get(JOURNAL)
    if journal is not None:
        journal.stop(summary)
