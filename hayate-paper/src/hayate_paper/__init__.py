"""Hayate paper exchange: queue- and latency-aware simulated matching on live or replayed
data, and a simulated market."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hayate-paper")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0.0.0"
