import pickle
import re
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hayate.exceptions import InvalidNumber
from hayate.instruments import Instrument
from hayate.numbers import (
    MAX_NUMBER_CHARS,
    MS_MAX,
    MS_MIN,
    UnitParser,
    check_id,
    check_ms,
    decimals_of,
    from_units,
    parse_decimal,
    parse_ms,
    to_units,
)


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


# -- the strict rules every venue value goes through ---------------------------------------------

PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@pytest.mark.parametrize("text", ["64999.²", "1" * 4301, "9" * 49, "NaN", "Infinity", "-inf",
                                  "1e5", "١٢٣", "1.2.3", "+1", "0x10", "1 ", "", "--1", "1,5"])
def test_hostile_text_raises_invalid_number_only(text: str) -> None:
    for sign in ("any", "non_negative", "positive"):
        with pytest.raises(InvalidNumber):
            UnitParser(2, sign=sign)(text)  # type: ignore[arg-type]
        with pytest.raises(InvalidNumber):
            parse_decimal(text, sign=sign)  # type: ignore[arg-type]


@given(st.one_of(st.text(max_size=60), st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{1,12})?",
                                                     fullmatch=True)))
@example("10000000000000000000000000001")  # 29 digits: past the default Decimal context
def test_parser_accepts_exactly_plain_ascii_decimals(text: str) -> None:
    p = UnitParser(12)
    try:
        units = p(text)
    except InvalidNumber:
        assert not (PLAIN.fullmatch(text) and len(text) <= MAX_NUMBER_CHARS)
        assert text not in p.cache
        return
    assert PLAIN.fullmatch(text) and len(text) <= MAX_NUMBER_CHARS
    assert units == to_units(Decimal(text), 12) and p.cache[text] == units
    assert parse_decimal(text) == Decimal(text)


@pytest.mark.parametrize(("sign", "good", "bad"), [
    ("positive", ["0.01", "5"], ["0", "0.00", "-1", "-0"]),
    ("non_negative", ["0", "0.00", "5"], ["-1", "-0.01", "-0"]),
    ("any", ["-1", "0", "5"], []),
])
def test_sign_rules_and_the_cache(sign: str, good: list[str], bad: list[str]) -> None:
    """A value that breaks the sign rule never enters the cache a hot path trusts."""
    p = UnitParser(2, sign=sign)  # type: ignore[arg-type]
    for text in bad:
        with pytest.raises(InvalidNumber, match=r"negative|positive"):
            p(text)
        with pytest.raises(InvalidNumber):
            p(text)  # refused again: it was not cached
    for text in good:
        p(text)
    assert set(p.cache) == set(good)


def test_instrument_parsers_carry_the_sign_rules() -> None:
    inst = Instrument(symbol="X", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"))
    assert inst.qty_parser("0") == 0
    with pytest.raises(InvalidNumber) as e:
        inst.qty_parser("-1000")
    assert e.value.reason == "size"
    with pytest.raises(InvalidNumber) as e:
        inst.price_parser("0")
    assert e.value.reason == "price"


def test_times_and_ids() -> None:
    assert check_ms(MS_MIN) == MS_MIN and check_ms(MS_MAX) == MS_MAX
    for bad in (MS_MIN - 1, MS_MAX + 1, 100_000_000_000, -1, "1700000000000", 1.7e12, True):
        with pytest.raises(InvalidNumber) as e:
            check_ms(bad)
        assert e.value.reason == "time"
    assert parse_ms("1700000000000") == 1_700_000_000_000
    for text in ("", "17000000000000000000", "1700000000000.5", "１７００", "-1700000000000"):
        with pytest.raises(InvalidNumber):
            parse_ms(text)
    assert check_id("a-b_c:1") == "a-b_c:1" and check_id("", required=False) == ""
    for bad_id in ("", "x" * 65, "caf\u00e9", "a\nb", 5):
        with pytest.raises(InvalidNumber):
            check_id(bad_id)


def test_invalid_number_keeps_its_reason_when_pickled() -> None:
    e = pickle.loads(pickle.dumps(InvalidNumber("bad", "price")))
    assert (str(e), e.reason) == ("bad", "price")


@pytest.mark.parametrize("text", ["10000000000000000000000000001", "-99999999999999999999999999999.5",
                                  "123456789012345678901234567890.123456789012"])
def test_units_are_exact_past_the_default_decimal_precision(text: str) -> None:
    """The default Decimal context keeps 28 digits; the conversions never round."""
    units = to_units(text, 12)
    assert units == UnitParser(12)(text)
    assert from_units(units, 12) == Decimal(text)


def test_to_units_refuses_a_value_too_large_to_build() -> None:
    with pytest.raises(InvalidNumber):
        to_units("1e999999999", 2)
