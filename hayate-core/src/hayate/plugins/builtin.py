"""Hayate core's own plugin: registers the core components through the same hooks a
third-party plugin uses (``[project.entry-points.hayate] core = "hayate.plugins.builtin"``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hayate.plugins.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from hayate.risk.engine import RiskEngine


# Registered by name: a component's module is imported only when a spec uses its kind.
@hookimpl
def hayate_register_collectors(register: Register) -> None:
    register.lazy("core.timer", "hayate.timer:TimerCollector")


@hookimpl
def hayate_register_states(register: Register) -> None:
    register.lazy("core.orderbook", "hayate.book.state:OrderBookState")
    register.lazy("core.account", "hayate.orders.state:AccountState")


@hookimpl
def hayate_register_inputs(register: Register) -> None:
    register.lazy("core.market", "hayate.view:MarketView")


_RISK_ENGINE: type[RiskEngine] | None = None  # imported once a bot checks an action


def _risk_engine() -> type[RiskEngine]:
    global _RISK_ENGINE
    if _RISK_ENGINE is None:
        from hayate.risk.engine import RiskEngine

        _RISK_ENGINE = RiskEngine
    return _RISK_ENGINE


@hookimpl(trylast=True)
def hayate_check_action(action: Any, context: Any) -> str | None:
    """Core's risk engine, after any plugin's own checks (it records what it lets through)."""
    if isinstance(context, _RISK_ENGINE or _risk_engine()):
        return context.check(action)
    return None


@hookimpl
def hayate_bot_starting(bot: Any) -> None:
    """Operator tools on the observer API: the journal (and restart recovery), shadow mode's
    twins (when the spec has any), the metrics endpoint, and the status display (a panel
    when the CLI gives a terminal console)."""
    from hayate.accounting.recorder import RECORDER, attach_recorder
    from hayate.journal.recorder import JOURNAL, attach_journal
    from hayate.metrics_http import attach_metrics
    from hayate.status.monitor import STATUS_CONSOLE, attach_status

    bot.stash[RECORDER] = attach_recorder(bot)
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
    """Every venue's figures (the run's recorder), the risk engine's (mode, breaker trips,
    P&L, drawdown) into summary.json; finish shadow mode's twins (their comparison goes to
    summary.json and the journal); commit and close the journal (its figures go to
    summary.json too)."""
    from hayate.accounting.recorder import RECORDER

    recorder = bot.stash.get(RECORDER)
    if recorder is not None:
        recorder.finish(summary)
    risk = getattr(bot, "risk_context", None)
    if isinstance(risk, _risk_engine()) and (risk.active or risk.trips):
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
