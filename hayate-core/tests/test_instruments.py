from decimal import Decimal

import pytest

from hayate.instruments import Instrument, InstrumentRegistry

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.10"), qty_step=Decimal("0.001"),
                 min_qty=Decimal("0.001"), min_notional=Decimal("5"))


def test_scales_derive_from_tick_and_step() -> None:
    assert BTC.price_decimals == 1 and BTC.qty_decimals == 3
    assert BTC.price_units("65000.1") == 650001
    assert BTC.price(650001) == Decimal("65000.1")
    assert BTC.qty_units(Decimal("0.002")) == 2


def test_half_tick_instrument_counts_ticks_in_units() -> None:
    inst = Instrument(symbol="X", tick_size=Decimal("0.5"), qty_step=Decimal("1"))
    assert inst.tick_units == 5
    assert inst.round_price_units(17, "down") == 15
    assert inst.round_price_units(17, "up") == 20


def test_rounding_onto_the_grid() -> None:
    assert BTC.round_price(Decimal("65000.17"), "down") == Decimal("65000.1")
    assert BTC.round_price(Decimal("65000.11"), "up") == Decimal("65000.2")
    assert BTC.round_qty(Decimal("0.0019")) == Decimal("0.001")


@pytest.mark.parametrize(
    ("qty", "price", "reason"),
    [
        ("0.0015", "65000", "multiple of the qty step"),
        ("0.001", "65000.05", "multiple of the tick size"),
        ("0.001", "1000", "notional"),
        ("0", "65000", "positive"),
    ],
)
def test_check_order_names_the_broken_rule(qty: str, price: str, reason: str) -> None:
    msg = BTC.check_order(Decimal(qty), Decimal(price))
    assert msg is not None and reason in msg


def test_valid_order_passes() -> None:
    assert BTC.check_order(Decimal("0.001"), Decimal("65000.1")) is None


def test_registry_refuses_conflicting_scales() -> None:
    reg = InstrumentRegistry([BTC])
    with pytest.raises(ValueError, match="conflicting"):
        reg.add(Instrument(symbol="BTCUSDT", tick_size=Decimal("0.01"), qty_step=Decimal("0.001")))
    with pytest.raises(KeyError, match="unknown instrument"):
        reg["ETHUSDT"]
