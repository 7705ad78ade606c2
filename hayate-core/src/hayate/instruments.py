"""Instruments: what can be traded and on which price/size grid.

An :class:`Instrument` fixes two integer scales: prices are counted in units of
``10**-price_decimals`` and sizes in units of ``10**-qty_decimals``. Every market event
carries prices and sizes in those units, so a book or a matching engine never touches a
float. ``tick_size`` and ``qty_step`` are multiples of one unit (a 0.5 tick is 5 units at
one decimal).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Literal

import msgspec

from hayate.numbers import UnitParser, decimals_of, from_units, to_units

__all__ = ["Category", "Instrument", "InstrumentRegistry"]

Category = Literal["spot", "linear", "inverse", "option"]

_ZERO = Decimal(0)


class Rounding(StrEnum):
    DOWN = "down"
    UP = "up"


class Instrument(msgspec.Struct, kw_only=True, dict=True):
    """One tradable symbol on one venue, with its exact trading rules.

    Treat it as immutable (derived scales are filled in at creation); ``dict=True`` lets the
    instance cache its unit parsers, built on first use.
    """

    symbol: str
    category: Category = "linear"
    venue: str = ""
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal = _ZERO
    max_qty: Decimal = _ZERO  # 0: no limit known
    min_notional: Decimal = _ZERO
    base: str = ""
    quote: str = ""
    settle: str = ""
    price_decimals: int = -1  # -1: derived from tick_size
    qty_decimals: int = -1  # -1: derived from qty_step
    contract_multiplier: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.qty_step <= 0:
            raise ValueError(f"{self.symbol}: tick_size and qty_step must be positive")
        if self.price_decimals < 0:
            self.price_decimals = decimals_of(self.tick_size)
        if self.qty_decimals < 0:
            self.qty_decimals = decimals_of(self.qty_step)
        tick_units = self.tick_size.scaleb(self.price_decimals)
        step_units = self.qty_step.scaleb(self.qty_decimals)
        if tick_units != tick_units.to_integral_value() or step_units != step_units.to_integral_value():
            raise ValueError(f"{self.symbol}: tick_size/qty_step finer than the declared decimals")

    # -- unit scales -------------------------------------------------------------------------
    @property
    def tick_units(self) -> int:
        """The tick size in price units (1 unless the tick is e.g. 0.5 at one decimal)."""
        return int(self.tick_size.scaleb(self.price_decimals))

    @property
    def step_units(self) -> int:
        return int(self.qty_step.scaleb(self.qty_decimals))

    @property
    def price_parser(self) -> UnitParser:
        """Strict parser of this instrument's prices (> 0), shared by every decoder."""
        try:
            return self.__dict__["_pp"]
        except KeyError:
            p = self.__dict__["_pp"] = UnitParser(self.price_decimals, sign="positive", what="price")
            return p

    @property
    def qty_parser(self) -> UnitParser:
        """Strict parser of this instrument's sizes (>= 0: a book size of 0 deletes; a
        trade or fill size must also be checked for > 0)."""
        try:
            return self.__dict__["_qp"]
        except KeyError:
            p = self.__dict__["_qp"] = UnitParser(self.qty_decimals, sign="non_negative", what="size")
            return p

    def price_units(self, price: Decimal | str) -> int:
        return to_units(price, self.price_decimals)

    def qty_units(self, qty: Decimal | str) -> int:
        return to_units(qty, self.qty_decimals)

    def price(self, units: int) -> Decimal:
        return from_units(units, self.price_decimals)

    def qty(self, units: int) -> Decimal:
        return from_units(units, self.qty_decimals)

    # -- rules -------------------------------------------------------------------------------
    def round_price(self, price: Decimal, rounding: Rounding | str = Rounding.DOWN) -> Decimal:
        """Round a price onto the tick grid (down for bids, up for asks, usually)."""
        mode = ROUND_FLOOR if Rounding(rounding) is Rounding.DOWN else ROUND_CEILING
        ticks = (price / self.tick_size).to_integral_value(rounding=mode)
        return (ticks * self.tick_size).quantize(Decimal(1).scaleb(-self.price_decimals))

    def round_qty(self, qty: Decimal) -> Decimal:
        """Round a size down onto the qty step grid."""
        steps = (qty / self.qty_step).to_integral_value(rounding=ROUND_FLOOR)
        return (steps * self.qty_step).quantize(Decimal(1).scaleb(-self.qty_decimals))

    def round_qty_up(self, qty: Decimal) -> Decimal:
        """Round a size up onto the qty step grid."""
        steps = (qty / self.qty_step).to_integral_value(rounding=ROUND_CEILING)
        return (steps * self.qty_step).quantize(Decimal(1).scaleb(-self.qty_decimals))

    def round_price_units(self, units: int | float, rounding: Rounding | str = Rounding.DOWN) -> int:
        """Round a (possibly fractional) unit price onto the tick grid, in units."""
        t = self.tick_units
        if Rounding(rounding) is Rounding.DOWN:
            return int((units // t) * t)
        return int(-((-units) // t) * t)

    def check_qty(self, qty: Decimal) -> str | None:
        """The first size rule ``qty`` breaks, as a short reason, or None if it is valid."""
        if qty <= 0:
            return "qty must be positive"
        if qty % self.qty_step != 0:
            return f"qty {qty:f} is not a multiple of the qty step {self.qty_step:f}"
        if qty < self.min_qty:
            return f"qty {qty:f} is below the minimum {self.min_qty:f}"
        if self.max_qty > 0 and qty > self.max_qty:
            return f"qty {qty:f} is above the maximum {self.max_qty:f}"
        return None

    def check_price(self, price: Decimal) -> str | None:
        """The first price rule ``price`` breaks, as a short reason, or None if it is valid."""
        if price <= 0:
            return "price must be positive"
        if price % self.tick_size != 0:
            return f"price {price:f} is not a multiple of the tick size {self.tick_size:f}"
        return None

    def check_order(self, qty: Decimal, price: Decimal | None) -> str | None:
        """The first trading rule this order breaks, as a short reason, or None if it is valid."""
        reason = self.check_qty(qty)
        if reason is not None or price is None:
            return reason
        reason = self.check_price(price)
        if reason is not None:
            return reason
        if self.min_notional > 0 and price * qty * self.contract_multiplier < self.min_notional:
            return f"notional {price * qty} is below the minimum {self.min_notional}"
        return None

    def valid_qtys_near(self, qty: Decimal) -> list[Decimal]:
        """The valid sizes on either side of ``qty`` (for "did you mean" hints)."""
        lo = max(self.round_qty(qty), self.round_qty_up(self.min_qty), self.qty_step)
        hi = self.round_qty_up(qty)
        return [q for q in sorted({lo, max(hi, lo)}) if self.check_qty(q) is None]

    def valid_prices_near(self, price: Decimal) -> list[Decimal]:
        """The valid prices on either side of ``price`` (for "did you mean" hints)."""
        lo = max(self.round_price(price, Rounding.DOWN), self.tick_size)
        hi = max(self.round_price(price, Rounding.UP), lo)
        return sorted({lo, hi})


class InstrumentRegistry:
    """Instruments known to a running bot, keyed by symbol (shared by all its components)."""

    def __init__(self, instruments: list[Instrument] | None = None) -> None:
        self._by_symbol: dict[str, Instrument] = {}
        for inst in instruments or []:
            self.add(inst)

    def add(self, instrument: Instrument) -> None:
        current = self._by_symbol.get(instrument.symbol)
        if current is not None and (
            current.price_decimals != instrument.price_decimals
            or current.qty_decimals != instrument.qty_decimals
        ):
            raise ValueError(
                f"{instrument.symbol}: conflicting unit scales "
                f"({current.price_decimals}/{current.qty_decimals} vs "
                f"{instrument.price_decimals}/{instrument.qty_decimals})"
            )
        self._by_symbol[instrument.symbol] = instrument

    def get(self, symbol: str) -> Instrument | None:
        return self._by_symbol.get(symbol)

    def __getitem__(self, symbol: str) -> Instrument:
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise KeyError(f"unknown instrument {symbol!r}; known: {sorted(self._by_symbol)}") from None

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_symbol

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_symbol.values())

    def __len__(self) -> int:
        return len(self._by_symbol)
