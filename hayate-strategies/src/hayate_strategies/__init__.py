"""Hayate strategies: market making (simple, dynamic spread, Avellaneda-Stoikov) and indicators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hayate-strategies")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0.0.0"
