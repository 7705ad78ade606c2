"""Exact decimal <-> integer-unit conversion, and the strict reading of venue numbers.

Prices and sizes arrive from venues as decimal strings. On the hot path Hayate keeps them
as integers counted in units of ``10**-decimals`` (e.g. ``"1.9531"`` with 4 decimals is
``19531``): exact, hashable, and as fast as Python arithmetic gets. ``Decimal`` is used at
the edges (actions, accounting) where readability matters more than nanoseconds.

Every number a venue sends goes through one of the strict readers here before Hayate uses
it: :class:`UnitParser` (prices and sizes in units), :func:`parse_decimal` (other decimal
fields), :func:`check_ms` / :func:`parse_ms` / :func:`check_ns` (timestamps) and
:func:`check_id` (ids). Their rules, the same everywhere:

- plain ASCII decimal text only: digits, at most one ``.`` with digits on both sides, a
  leading ``-`` only where the field may be negative; no exponent, no ``NaN`` or
  ``Infinity``, no blanks, no underscores, no other scripts' digits (``"²"``, ``"١"``);
- at most :data:`MAX_NUMBER_CHARS` characters (Python's ``int()`` refuses more than 4,300
  digits with a bare ``ValueError``; nothing real comes close to our bound);
- the sign rule of the field (:data:`Sign`: ``"positive"`` for prices, ``"non_negative"``
  for book sizes, where 0 deletes a level);
- timestamps in milliseconds between :data:`MS_MIN` (2015) and :data:`MS_MAX` (2100).

A value that breaks a rule raises :class:`~hayate.exceptions.InvalidNumber` and nothing
else; a :class:`UnitParser` caches only values that passed, so a cache hit needs no check.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Literal

from hayate.exceptions import InvalidNumber

__all__ = [
    "MAX_ID_CHARS",
    "MAX_NUMBER_CHARS",
    "MS_MAX",
    "MS_MIN",
    "NS_MAX",
    "NS_MIN",
    "Sign",
    "UnitParser",
    "check_id",
    "check_ms",
    "check_ns",
    "decimals_of",
    "from_units",
    "parse_decimal",
    "parse_ms",
    "to_units",
]

_CACHE_LIMIT = 1 << 17

MAX_NUMBER_CHARS = 48
"""Longest decimal text accepted (a 24-digit balance with 18 decimals is 43)."""
MAX_ID_CHARS = 64
"""Longest id accepted (Bybit's are UUIDs, 36, or numbers of 19 digits)."""
MS_MIN = 1_420_070_400_000
"""2015-01-01T00:00:00Z in ms: no venue record of ours is older."""
MS_MAX = 4_102_444_800_000
"""2100-01-01T00:00:00Z in ms."""
NS_MIN = MS_MIN * 1_000_000
NS_MAX = MS_MAX * 1_000_000

Sign = Literal["any", "non_negative", "positive"]
_MINIMUM: dict[str, int | None] = {"any": None, "non_negative": 0, "positive": 1}


def _split(text: object, what: str, negative_ok: bool,
           reason: str) -> tuple[bool, str, str, str]:
    """``(negative, whole, dot, frac)`` of plain decimal text, or InvalidNumber."""
    if type(text) is not str:
        raise InvalidNumber(f"{what} is not a decimal string: {_show(text)}", reason)
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidNumber(f"{what} is longer than {MAX_NUMBER_CHARS} characters: "
                            f"{_show(text)}", reason)
    if not text.isascii():
        raise InvalidNumber(f"{what} is not plain ASCII: {_show(text)}", reason)
    whole, dot, frac = text.partition(".")
    negative = whole.startswith("-")
    if negative:
        if not negative_ok:
            raise InvalidNumber(f"{what} must not be negative: {_show(text)}", reason)
        whole = whole[1:]
    if not whole.isdigit() or (dot and not frac.isdigit()):
        raise InvalidNumber(f"{what} is not a plain decimal number: {_show(text)}", reason)
    return negative, whole, dot, frac


def _show(value: object) -> str:
    """A bounded repr for error messages (a hostile value may be megabytes long)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + f"...' ({len(text)} chars)"


def parse_decimal(text: object, *, sign: Sign = "any", what: str = "number",
                  reason: str = "value") -> Decimal:
    """Strict ``str -> Decimal`` for a venue field (rules in the module docstring)."""
    _split(text, what, sign == "any", reason)  # "non_negative" and "positive" refuse a "-"
    value = Decimal(text)  # type: ignore[arg-type]  # checked: plain ASCII decimal text
    if sign == "positive" and not value:
        raise InvalidNumber(f"{what} must be positive: {_show(text)}", reason)
    return value


def check_ms(value: object, what: str = "timestamp") -> int:
    """``value`` if it is an integer time in ms between 2015 and 2100."""
    if type(value) is not int or not MS_MIN <= value <= MS_MAX:
        raise InvalidNumber(f"{what} is not a time in ms between 2015 and 2100: {_show(value)}",
                            "time")
    return value


def check_ns(value: object, what: str = "timestamp") -> int:
    """``value`` if it is an integer time in ns between 2015 and 2100."""
    if type(value) is not int or not NS_MIN <= value <= NS_MAX:
        raise InvalidNumber(f"{what} is not a time in ns between 2015 and 2100: {_show(value)}",
                            "time")
    return value


def parse_ms(text: object, what: str = "timestamp") -> int:
    """A millisecond time written as digits (``"1700000000000"``), checked like
    :func:`check_ms`."""
    if type(text) is not str or not 0 < len(text) <= 16 or not text.isascii() \
            or not text.isdigit():
        raise InvalidNumber(f"{what} is not a time in ms: {_show(text)}", "time")
    return check_ms(int(text), what)


def check_id(text: object, what: str = "id", *, required: bool = True) -> str:
    """``text`` if it is a printable ASCII id of at most :data:`MAX_ID_CHARS` characters
    (empty only when not ``required``)."""
    if type(text) is not str or len(text) > MAX_ID_CHARS or (required and not text) or not (
            text.isascii() and text.isprintable()):
        raise InvalidNumber(f"{what} is not a valid id: {_show(text)}", "id")
    return text


def decimals_of(step: Decimal | str) -> int:
    """Number of decimal places needed to write ``step`` exactly (``0.10`` -> 1, ``5`` -> 0)."""
    d = Decimal(step).normalize()
    exp = d.as_tuple().exponent
    assert isinstance(exp, int)
    return max(0, -exp)


_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
"""Shifting the decimal point never rounds in this context (the default one keeps 28
digits, so ``Decimal("10000000000000000000000000001").scaleb(12)`` would lose the 1)."""

_MAX_UNIT_DIGITS = 1000
"""Largest integer :func:`to_units` builds (a config value like ``1e999999999`` would
otherwise make a billion-digit int)."""


def to_units(value: Decimal | str | int, decimals: int) -> int:
    """Exact conversion to integer units; raises :class:`InvalidNumber` if it would round."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(value)
        scaled = d.scaleb(decimals, _EXACT)
    except (InvalidOperation, ValueError, TypeError) as e:
        raise InvalidNumber(f"not a decimal number: {value!r}") from e
    if not scaled.is_finite():
        raise InvalidNumber(f"not a finite number: {value!r}")
    if scaled and scaled.adjusted() >= _MAX_UNIT_DIGITS:
        raise InvalidNumber(f"out of range: {value!r}")
    integral = scaled.to_integral_value()
    if integral != scaled:
        raise InvalidNumber(f"{value} has more than {decimals} decimal places")
    return int(integral)


def from_units(units: int, decimals: int) -> Decimal:
    """Exact inverse of :func:`to_units`."""
    return Decimal(units).scaleb(-decimals, _EXACT)


class UnitParser:
    """Fast, cached, strict ``str -> int units`` parser for one number of decimals.

    Venues repeat the same price strings over and over (the top of the book moves by a few
    ticks), so a bounded dict cache turns most conversions into one lookup. Only values
    that passed every rule (module docstring), ``sign`` included, enter the cache, so
    callers on the hot path may read ``parser.cache`` directly, trust a hit without a
    check, and call the parser only on a miss. An instrument's parsers are shared by every
    decoder of a bot: ``price_parser`` takes ``sign="positive"``, ``qty_parser``
    ``sign="non_negative"``.
    """

    __slots__ = ("_least", "_pad", "cache", "decimals", "minimum", "sign", "what")

    def __init__(self, decimals: int, *, sign: Sign = "any", what: str = "number") -> None:
        if decimals < 0:
            raise ValueError("decimals must be >= 0")
        if sign not in _MINIMUM:
            raise ValueError(f"sign must be one of {', '.join(_MINIMUM)}")
        self.decimals = decimals
        self.sign = sign
        self.minimum = _MINIMUM[sign]
        self._least = self.minimum or 0  # of unsigned text, for the inline path
        self.what = what
        self._pad = ["0" * k for k in range(decimals + 1)]
        self.cache: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        try:
            return self.cache[text]
        except (KeyError, TypeError):  # TypeError: not hashable, so not a string either
            pass
        # A miss: the common case (plain digits on the grid, no sign) inline, as a venue's
        # sizes miss the cache often; anything else takes parse(), which explains refusals.
        if type(text) is str and len(text) <= MAX_NUMBER_CHARS and text.isascii():
            whole, dot, frac = text.partition(".")
            n = len(frac)
            if whole.isdigit() and n <= self.decimals and (not dot or frac.isdigit()):
                units = int(whole + frac + self._pad[self.decimals - n])
                if units >= self._least:
                    cache = self.cache
                    if len(cache) >= _CACHE_LIMIT:
                        cache.clear()
                    cache[text] = units
                    return units
        units = self.parse(text)
        if len(self.cache) >= _CACHE_LIMIT:
            self.cache.clear()
        self.cache[text] = units
        return units

    def parse(self, text: object) -> int:
        """The uncached conversion: units, or :class:`InvalidNumber`."""
        minimum = self.minimum
        what = self.what
        negative, whole, _, frac = _split(text, what, minimum is None, what)
        n = len(frac)
        if n > self.decimals:
            # Tolerate trailing zeros beyond our precision ("1.500000" with 1 decimal).
            frac = frac.rstrip("0")
            n = len(frac)
            if n > self.decimals:
                raise InvalidNumber(f"{what} {_show(text)} has more than {self.decimals} "
                                    "decimal places", what)
        units = int(whole + frac + self._pad[self.decimals - n])  # bounded ASCII digits
        if negative:
            units = -units
        if minimum is not None and units < minimum:
            raise InvalidNumber(f"{what} must be "
                                f"{'positive' if minimum else 'non-negative'}: {_show(text)}", what)
        return units

    def format(self, units: int) -> str:
        """Render units as a plain decimal string (``19531`` -> ``"1.9531"``)."""
        if self.decimals == 0:
            return str(units)
        sign = "-" if units < 0 else ""
        digits = str(abs(units)).rjust(self.decimals + 1, "0")
        return f"{sign}{digits[: -self.decimals]}.{digits[-self.decimals :]}"
