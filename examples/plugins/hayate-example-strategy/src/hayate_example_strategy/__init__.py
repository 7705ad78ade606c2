"""An example third-party strategy for Hayate (see docs/writing-a-strategy.md).

The names below are imported on first use, not with the package: the ``hayate`` entry
point imports ``hayate_example_strategy.plugin`` (and so this package) for every command,
and the strategy's module is only needed when a spec runs it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ImbalanceConfig", "ImbalanceJoiner"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hayate_example_strategy import strategy

        return getattr(strategy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
