"""Core's risk engine: pre-trade limits, loss breakers, stale data and the kill switch.

Configured by the ``[risk]`` table of a bot spec (:class:`RiskConfig`, documented in
docs/risk.md) and applied to every action through the ``hayate_check_action`` hook.
"""

from hayate.risk.config import RiskConfig, SymbolLimits
from hayate.risk.engine import RiskEngine

__all__ = ["RiskConfig", "RiskEngine", "SymbolLimits"]
