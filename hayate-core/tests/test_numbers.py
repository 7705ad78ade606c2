from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hayate.exceptions import InvalidNumber
from hayate.numbers import UnitParser, decimals_of, from_units, to_units


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [("1.9531", 4, 19531), ("43730", 1, 437300), ("0.5", 3, 500), ("-0.25", 2, -25),
     ("1.500000", 1, 15), ("0", 8, 0)],
)
def test_parser_reads_exact_units(text: str, decimals: int, units: int) -> None:
    assert UnitParser(decimals)(text) == units


@pytest.mark.parametrize("text", ["1.95311", "abc", "", "1.", ".5", "1e5", " 1", "1_0", "１", "nan"])
def test_parser_rejects_what_is_not_on_the_grid(text: str) -> None:
    with pytest.raises(InvalidNumber):
        UnitParser(4)(text)


@given(st.decimals(min_value=-10**9, max_value=10**9, places=6, allow_nan=False,
                   allow_infinity=False), st.integers(6, 10))
def test_parser_and_format_round_trip(value: Decimal, decimals: int) -> None:
    p = UnitParser(decimals)
    text = format(value, "f")
    units = p(text)
    assert units == to_units(value, decimals)
    assert Decimal(p.format(units)) == value
    assert from_units(units, decimals) == value


def test_to_units_refuses_rounding() -> None:
    with pytest.raises(InvalidNumber):
        to_units(Decimal("0.123"), 2)
    assert to_units("0.120", 2) == 12


def test_decimals_of_steps() -> None:
    assert decimals_of("0.10") == 1
    assert decimals_of("5") == 0
    assert decimals_of(Decimal("0.0005")) == 4
