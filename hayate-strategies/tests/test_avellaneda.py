"""mm.avellaneda: reservation price and optimal spread, as the formulas say."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from hayate.events import Side
from hayate.instruments import Instrument
from hayate_strategies.market_making import AvellanedaStoikov
from hayate_testing.market import ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.01"), qty_step=Decimal("0.001"))
D = Decimal


def setup(**cfg: object) -> tuple[ScriptedMarket, AvellanedaStoikov]:
    m = ScriptedMarket([BTC])
    base = {"symbol": "BTCUSDT", "order_qty": "0.01", "gamma": 0.1, "kappa": 1.5,
            "horizon": 60}
    mm = m.add_strategy(AvellanedaStoikov, **{**base, **cfg})
    return m, mm


def expected(mid: float, lots: float, gamma: float, kappa: float, sigma: float, tau: float
             ) -> tuple[Decimal, Decimal]:
    r = mid - lots * gamma * sigma**2 * tau
    spread = gamma * sigma**2 * tau + 2 / gamma * math.log(1 + gamma / kappa)
    bid = math.floor((r - spread / 2) * 100 + 1e-9) / 100
    ask = math.ceil((r + spread / 2) * 100 - 1e-9) / 100
    return D(f"{bid:.2f}"), D(f"{ask:.2f}")


def test_quotes_follow_the_closed_form_with_a_fixed_sigma() -> None:
    m, _ = setup(sigma=0.5)
    m.book("BTCUSDT", bids=[("99.99", "1")], asks=[("100.01", "1")])
    bid, ask = expected(100.0, 0, 0.1, 1.5, 0.5, 60)
    assert m.quotes("BTCUSDT") == ([bid], [ask])


def test_inventory_moves_the_reservation_price_against_it() -> None:
    m, _ = setup(sigma=0.1, gamma=1.0)
    m.book("BTCUSDT", bids=[("99.99", "1")], asks=[("100.01", "1")])
    flat = m.quotes("BTCUSDT")
    # gamma sigma^2 tau = 0.6: with one lot long the reservation price is 0.6 lower.
    m.fill(m.open_orders("BTCUSDT", Side.BUY)[0].client_id)
    assert m.position("BTCUSDT") == D("0.01")
    bid, ask = expected(100.0, 1, 1.0, 1.5, 0.1, 60)
    assert m.quotes("BTCUSDT") == ([bid], [ask])
    assert ask < flat[1][0] and bid < flat[0][0]


def test_quotes_never_cross_the_book_however_large_the_inventory() -> None:
    m, _ = setup(sigma=0.5, gamma=1.0)
    m.book("BTCUSDT", bids=[("99.99", "1")], asks=[("100.01", "1")])
    m.fill(m.open_orders("BTCUSDT", Side.BUY)[0].client_id)
    # The reservation price is 15 below the mid: the ask stops a tick above the best bid.
    assert m.quotes("BTCUSDT")[1] == [D("100.00")]


def test_min_spread_floor() -> None:
    m, _ = setup(sigma=0.001, gamma=0.01, kappa=1000, min_spread_bps=100)
    m.book("BTCUSDT", bids=[("99.99", "1")], asks=[("100.01", "1")])
    assert m.quotes("BTCUSDT") == ([D("99.50")], [D("100.50")])


def test_waits_for_a_volatility_estimate_then_uses_it() -> None:
    m, mm = setup(volatility_window=4, sample_interval="1s")
    mids = ["100", "100.2", "100", "100.2", "100", "100.2"]
    for i, mid in enumerate(mids):
        p = D(mid)
        m.book("BTCUSDT", bids=[(p - D("0.01"), "1")], asks=[(p + D("0.01"), "1")])
        if i < 5:
            assert m.open_orders("BTCUSDT") == [], f"quoted before the estimate, at sample {i}"
        m.advance(1)
    # Five closed bars, four changes of +-0.2: sigma = 0.2 per sqrt(second).
    sigma = mm.sigma(mm.quotes["BTCUSDT"])
    assert sigma == pytest.approx(0.2)
    assert len(m.open_orders("BTCUSDT")) == 2
    assert mm.summary()["sigma"]["BTCUSDT"] == pytest.approx(0.2)


def test_gamma_and_kappa_are_required() -> None:
    m = ScriptedMarket([BTC])
    with pytest.raises(ValueError, match="gamma"):
        m.add_strategy(AvellanedaStoikov, symbol="BTCUSDT", order_qty="0.01", kappa=1)
