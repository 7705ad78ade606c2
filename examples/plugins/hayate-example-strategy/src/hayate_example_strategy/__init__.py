"""An example third-party strategy for Hayate (see docs/writing-a-strategy.md)."""

from hayate_example_strategy.strategy import ImbalanceConfig, ImbalanceJoiner

__all__ = ["ImbalanceConfig", "ImbalanceJoiner"]
