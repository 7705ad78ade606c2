"""mm.dynamic: the spread follows NATR and leans away from an RSI trend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hayate.instruments import Instrument
from hayate_strategies.market_making import DynamicMarketMaker
from hayate_testing.market import ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.01"), qty_step=Decimal("0.001"))
D = Decimal


def setup(**cfg: object) -> tuple[ScriptedMarket, DynamicMarketMaker]:
    m = ScriptedMarket([BTC])
    base = {"symbol": "BTCUSDT", "base_spread_bps": 10, "order_qty": "0.01",
            "natr_period": 3, "rsi_period": 3, "sample_interval": "1s"}
    mm = m.add_strategy(DynamicMarketMaker, **{**base, **cfg})
    return m, mm


def walk(m: ScriptedMarket, mids: list[str], per_bar: int = 1) -> None:
    """One book per second at each mid (spread 0.02), ``per_bar`` books per bar."""
    for mid in mids:
        for _ in range(per_bar):
            p = D(mid)
            m.book("BTCUSDT", bids=[(p - D("0.01"), "1")], asks=[(p + D("0.01"), "1")])
            m.advance(1 / per_bar)


def test_warm_up_quotes_at_the_base_spread() -> None:
    m, mm = setup()
    walk(m, ["100"])
    assert mm.spread_bps(mm.quotes["BTCUSDT"]) == (5.0, 5.0)
    # 5 bps of 100 = 0.05 each side.
    assert m.quotes("BTCUSDT") == ([D("99.95")], [D("100.05")])


def test_calm_market_keeps_the_base_spread() -> None:
    m, mm = setup()
    walk(m, ["100"] * 10)
    q = mm.quotes["BTCUSDT"]
    assert q.model.atr.natr == pytest.approx(0.0)
    assert mm.spread_bps(q) == (5.0, 5.0)


def test_volatility_widens_the_spread_by_natr() -> None:
    m, mm = setup(natr_multiplier=2, rsi_widen=0)
    walk(m, ["100", "101", "100", "101", "100", "101", "100"])
    q = mm.quotes["BTCUSDT"]
    natr = q.model.atr.natr
    assert natr is not None and natr > 0.5  # about 1 % per bar
    bid, ask = mm.spread_bps(q)
    assert bid == ask == pytest.approx((10 + 2 * natr * 100) / 2)
    bids, asks = m.quotes("BTCUSDT")
    assert asks[0] - bids[0] > D("1.5")  # ~2 % of 100, instead of 0.1


def test_max_spread_caps_the_widening() -> None:
    m, mm = setup(natr_multiplier=5, max_spread_bps=50, rsi_widen=0)
    walk(m, ["100", "105", "100", "105", "100", "105", "100"])
    assert mm.spread_bps(mm.quotes["BTCUSDT"]) == (25.0, 25.0)


def test_uptrend_widens_the_asks_and_downtrend_the_bids() -> None:
    m, mm = setup(natr_multiplier=0, rsi_widen=2)
    walk(m, ["100", "100.1", "100.2", "100.3", "100.4", "100.5"])
    q = mm.quotes["BTCUSDT"]
    assert q.model.rsi.value == 100.0
    assert mm.spread_bps(q) == (5.0, 15.0)  # ask half-spread times 1 + 2 * 1

    m, mm = setup(natr_multiplier=0, rsi_widen=2)
    walk(m, ["100", "99.9", "99.8", "99.7", "99.6", "99.5"])
    assert mm.spread_bps(mm.quotes["BTCUSDT"]) == (15.0, 5.0)


def test_bars_from_trades() -> None:
    m, mm = setup(sample_source="trades", natr_multiplier=1, rsi_widen=0)
    walk(m, ["100"])
    for px in ["100", "102", "100", "102", "100", "102"]:
        m.trade("BTCUSDT", px, "0.1")
        m.advance(1)
    m.trade("BTCUSDT", "100", "0.1")
    natr = mm.quotes["BTCUSDT"].model.atr.natr
    assert natr is not None and natr > 1.0


def test_new_bar_requotes_without_a_mid_move() -> None:
    m, mm = setup(natr_multiplier=30, rsi_widen=0, requote_threshold_ticks=20)
    walk(m, ["100"] * 5)
    calm = m.quotes("BTCUSDT")
    requotes = mm.requotes
    walk(m, ["100.1", "100", "100"])  # mid moves less than the threshold; NATR rises
    assert mm.quotes["BTCUSDT"].model.atr.natr > 0
    assert mm.requotes > requotes
    wide = m.quotes("BTCUSDT")
    assert wide[0][0] < calm[0][0] - D("0.2") and wide[1][0] > calm[1][0] + D("0.2")


def test_summary_reports_the_indicators() -> None:
    m, mm = setup()
    walk(m, ["100", "101", "100", "101", "100"])
    ind = mm.summary()["indicators"]["BTCUSDT"]
    assert ind["rsi"] is not None and ind["natr_pct"] is not None


def test_rsi_bounds_are_validated() -> None:
    with pytest.raises(ValueError, match="rsi_lower"):
        setup(rsi_lower=80, rsi_upper=70)
