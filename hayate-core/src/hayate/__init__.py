"""Hayate (疾風): a framework for algorithmic trading bots.

Collector -> State -> Input -> Bot -> Executor, wired from a TOML spec and extended by
plugins. See README.md and docs/ for the tour.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hayate-core")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
