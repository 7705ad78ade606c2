"""Exact decimal <-> integer-unit conversion.

Prices and sizes arrive from venues as decimal strings. On the hot path Hayate keeps them
as integers counted in units of ``10**-decimals`` (e.g. ``"1.9531"`` with 4 decimals is
``19531``): exact, hashable, and as fast as Python arithmetic gets. ``Decimal`` is used at
the edges (actions, accounting) where readability matters more than nanoseconds.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hayate.exceptions import InvalidNumber

__all__ = ["UnitParser", "decimals_of", "from_units", "to_units"]

_CACHE_LIMIT = 1 << 17


def decimals_of(step: Decimal | str) -> int:
    """Number of decimal places needed to write ``step`` exactly (``0.10`` -> 1, ``5`` -> 0)."""
    d = Decimal(step).normalize()
    exp = d.as_tuple().exponent
    assert isinstance(exp, int)
    return max(0, -exp)


def to_units(value: Decimal | str | int, decimals: int) -> int:
    """Exact conversion to integer units; raises :class:`InvalidNumber` if it would round."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(value)
        scaled = d.scaleb(decimals)
    except (InvalidOperation, ValueError, TypeError) as e:
        raise InvalidNumber(f"not a decimal number: {value!r}") from e
    if not scaled.is_finite():
        raise InvalidNumber(f"not a finite number: {value!r}")
    integral = scaled.to_integral_value()
    if integral != scaled:
        raise InvalidNumber(f"{value} has more than {decimals} decimal places")
    return int(integral)


def from_units(units: int, decimals: int) -> Decimal:
    """Exact inverse of :func:`to_units`."""
    return Decimal(units).scaleb(-decimals)


class UnitParser:
    """Fast, cached ``str -> int units`` parser for one number of decimals.

    Venues repeat the same price strings over and over (the top of the book moves by a few
    ticks), so a bounded dict cache turns most conversions into one lookup. Callers on the
    hot path may read ``parser.cache`` directly and call the parser only on a miss.
    """

    __slots__ = ("_pad", "cache", "decimals")

    def __init__(self, decimals: int) -> None:
        if decimals < 0:
            raise ValueError("decimals must be >= 0")
        self.decimals = decimals
        self._pad = ["0" * k for k in range(decimals + 1)]
        self.cache: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        try:
            return self.cache[text]
        except KeyError:
            pass
        whole, dot, frac = text.partition(".")
        digits = whole[1:] if whole.startswith("-") else whole
        if not digits.isdigit() or (dot and not frac.isdigit()) or not digits.isascii():
            raise InvalidNumber(f"not a decimal number: {text!r}")
        n = len(frac)
        if n > self.decimals:
            # Tolerate trailing zeros beyond our precision ("1.500000" with 1 decimal).
            frac = frac.rstrip("0")
            n = len(frac)
            if n > self.decimals:
                raise InvalidNumber(f"{text!r} has more than {self.decimals} decimal places")
        units = int(whole + frac + self._pad[self.decimals - n])
        if len(self.cache) >= _CACHE_LIMIT:
            self.cache.clear()
        self.cache[text] = units
        return units

    def format(self, units: int) -> str:
        """Render units as a plain decimal string (``19531`` -> ``"1.9531"``)."""
        if self.decimals == 0:
            return str(units)
        sign = "-" if units < 0 else ""
        digits = str(abs(units)).rjust(self.decimals + 1, "0")
        return f"{sign}{digits[: -self.decimals]}.{digits[-self.decimals :]}"
