"""Hayate plugin for Bybit v5: public market data, record/replay, and live trading."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hayate-bybit")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0.0.0"
