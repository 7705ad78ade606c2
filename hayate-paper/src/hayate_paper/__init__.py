"""Hayate paper exchange: queue- and latency-aware simulated matching on live or replayed
data, and a simulated market."""

from typing import Any


def __getattr__(name: str) -> Any:
    """``__version__`` on demand: importlib.metadata stays off the import path of the
    decoders and the CLI."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("hayate-paper")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        v = "0.0.0"
    globals()["__version__"] = v
    return v
