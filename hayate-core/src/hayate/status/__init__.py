"""Live status of a running bot: figures, the tick-to-trade probe, the panel and log lines."""

from hayate.status.figures import SymbolFigures, symbol_figures
from hayate.status.monitor import StatusMonitor, StatusSnapshot, attach_status, format_line
from hayate.status.probe import BotProbe, attach_probe

__all__ = ["BotProbe", "StatusMonitor", "StatusSnapshot", "SymbolFigures", "attach_probe",
           "attach_status", "format_line", "symbol_figures"]
