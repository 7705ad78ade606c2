"""Core's risk engine: pre-trade limits, loss breakers, stale data and the kill switch.

Configured by the ``[risk]`` table of a bot spec (:class:`RiskConfig`, documented in
docs/risk.md) and applied to every action through the ``hayate_check_action`` hook. Names
load on first use, so ``hayate kill`` does not import the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["RiskConfig", "RiskEngine", "SymbolLimits"]

_WHERE = {"RiskConfig": "hayate.risk.config", "SymbolLimits": "hayate.risk.config",
          "RiskEngine": "hayate.risk.engine"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hayate.risk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from hayate.risk.config import RiskConfig, SymbolLimits
    from hayate.risk.engine import RiskEngine
