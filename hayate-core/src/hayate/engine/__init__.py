"""The engine: runs a validated spec as one bot in one anyio task group."""

from hayate.engine.inbox import Inbox, conflate
from hayate.engine.runtime import BotRuntime, RunResult, run_bot

__all__ = ["BotRuntime", "Inbox", "RunResult", "conflate", "run_bot"]
