"""The test kit's strategy contract, for each market maker: every event type, and only
orders on the tick and qty grids, in a running bot."""

from __future__ import annotations

from typing import Any

from hayate_testing.conformance import StrategyConformance

COMMON: dict[str, Any] = {"symbol": "TESTUSDT", "order_qty": "0.002", "levels": 2,
                          "level_spacing_bps": 3}


class TestSimpleConformance(StrategyConformance):
    plugin = "hayate_strategies.plugin"
    kind = "mm.simple"
    config = {**COMMON, "spread_bps": 5, "skew_bps_per_unit": 100}


class TestDynamicConformance(StrategyConformance):
    plugin = "hayate_strategies.plugin"
    kind = "mm.dynamic"
    config = {**COMMON, "base_spread_bps": 5, "natr_period": 3, "rsi_period": 3,
              "sample_interval": "10ms"}


class TestAvellanedaConformance(StrategyConformance):
    plugin = "hayate_strategies.plugin"
    kind = "mm.avellaneda"
    config = {**COMMON, "gamma": 0.1, "kappa": 2, "sigma": 0.05}


class TestJoinTheTouchConformance(StrategyConformance):
    plugin = "hayate_strategies.plugin"
    kind = "mm.join_touch"
    config = {"symbol": "TESTUSDT", "order_qty": "0.002", "max_position": "0.01"}
