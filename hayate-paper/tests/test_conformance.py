"""The test kit's conformance suites on the paper package: ``sim.market`` as a simulated
source, ``paper.exchange`` as an executor wrapping simulated data and wrapping a live
(wall-clock) source."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from hayate_testing.conformance import ExecutorConformance, SimulatedCollectorConformance

SIM_MARKET: dict[str, Any] = {"symbol": "BTCUSDT", "duration": "2m", "depth": 10,
                              "trade_rate": 8.0, "seed": 3}


class TestSimMarket(SimulatedCollectorConformance):
    plugin = "hayate_paper.plugin"
    kind = "sim.market"
    config = SIM_MARKET


class TestPaperExchangeOnSimulatedData(ExecutorConformance):
    plugin = "hayate_paper.plugin"
    kind = "paper.exchange"
    wiring: ClassVar[dict[str, Any]] = {"source": "market"}
    config: ClassVar[dict[str, Any]] = {"balances": {"USDT": "10000"}}
    source_config: ClassVar[dict[str, Any]] = {"type": "sim.market", **SIM_MARKET,
                                               "duration": "10m"}
    symbol = "BTCUSDT"
    price = Decimal("50000.0")  # the market is around 60000: the bids rest


class TestPaperExchangeOnLiveData(ExecutorConformance):
    """Live (``wrap_run``): the same venue on the wall clock, over a live source."""

    plugin = "hayate_paper.plugin"
    kind = "paper.exchange"
    wiring: ClassVar[dict[str, Any]] = {"source": "market"}
    config: ClassVar[dict[str, Any]] = {"balances": {"USDT": "10000"},
                                        "latency": {"entry": 0.002, "cancel": 0.002,
                                                    "response": 0.001, "market_data": 0}}
    source_config: ClassVar[dict[str, Any]] = {"type": "testing.live_ticks",
                                               "interval": 0.005}
