"""Configuration shared by the market makers: quoting parameters, several symbols, and
per-symbol overrides.

A strategy's ``Config`` is :class:`MultiSymbolConfig` plus its own parameters model (a
subclass of :class:`QuoteParams`). Every parameter can be overridden for one symbol::

    symbols = ["BTCUSDT", "ETHUSDT"]
    spread_bps = 4
    order_qty = "0.001"

    [strategies.mm.per_symbol.ETHUSDT]
    order_qty = "0.01"

Overrides are validated with the same rules as the top-level values when the spec is
checked, so a bad override fails ``hayate check``, not the run.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hayate.spec.errors import ValueErrorAt
from hayate.spec.models import Duration
from hayate.types import StrategyConfig

__all__ = ["DecimalStr", "MultiSymbolConfig", "QuoteParams"]


def _exact_decimal(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError(f"write decimals as strings, e.g. \"{value}\" (a float is not exact)")
    if isinstance(value, bool):
        raise ValueError("not a decimal number")
    if isinstance(value, str | int | Decimal):
        try:
            d = Decimal(value) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
        if not d.is_finite():
            raise ValueError(f"not a finite decimal: {value!r}")
        return d
    return value


def _size(value: Any) -> Any:
    d = _exact_decimal(value)
    if isinstance(d, Decimal) and d <= 0:
        raise ValueError(f"sizes must be positive (got {d})")
    return d


def _one_or_many(value: Any) -> Any:
    if isinstance(value, list):
        if not value:
            raise ValueError("give at least one size")
        return [_size(v) for v in value]
    return _size(value)


def _not_negative(value: Any) -> Any:
    d = _exact_decimal(value)
    if isinstance(d, Decimal) and d < 0:
        raise ValueError(f"cannot be negative (got {d})")
    return d


DecimalStr = Annotated[Decimal, BeforeValidator(_exact_decimal)]
"""An exact decimal written as a string (``"0.001"``) or an integer; floats are refused."""

Sizes = Annotated[Decimal | list[Decimal], BeforeValidator(_one_or_many)]
NonNegative = Annotated[Decimal, BeforeValidator(_not_negative)]


class QuoteParams(BaseModel):
    """What every ladder market maker needs for one symbol."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    order_qty: Sizes = Field(
        description="Size of each quote (base quantity, a decimal string), or one size per "
                    "level, best level first.")
    levels: int = Field(1, ge=1, le=50, description="Quotes per side.")
    level_spacing_bps: float = Field(
        0.0, ge=0, description="Extra distance of each further level from the previous one, in "
                               "bps of the mid (at least one tick apart in any case).")
    requote_threshold_ticks: int = Field(
        1, ge=0, description="Requote only when the quote reference moved by at least this many "
                             "ticks (the larger of this and requote_threshold_bps applies).")
    requote_threshold_bps: float = Field(
        0.0, ge=0, description="Requote only when the quote reference moved by at least this many "
                               "bps of the mid.")
    max_position: NonNegative | None = Field(
        None, description="Largest absolute position this strategy builds (base quantity): a "
                          "side stops quoting, or quotes less, when its fills could pass it.")
    min_quote_lifetime: Duration = Field(
        0.0, description="A quote stays at least this long before it is requoted (seconds or "
                         "'250ms'). Pulls for an invalid or stale book ignore it.")
    stale_after: Duration | None = Field(
        10.0, gt=0, description="Pull quotes when the book had no update for this long (None: never). "
                          "Add a core.timer to the inputs to notice silence between events.")
    post_only: bool = Field(
        True, description="Quote with PostOnly orders (never take liquidity); prices are then "
                          "kept at least one tick inside the opposite best price.")

    requote_with: Literal["cancel", "amend"] = Field(
        "cancel", description="How a quote whose price moved is replaced: 'cancel' (cancel it and "
                              "place a new order) or 'amend' (move it with one amend request: "
                              "half the requests; the order must be acknowledged and unfilled).")

    @model_validator(mode="after")
    def _sizes(self) -> QuoteParams:
        if isinstance(self.order_qty, list):
            n = len(self.order_qty)
            if "levels" not in self.model_fields_set:
                object.__setattr__(self, "levels", n)
            elif n != self.levels:
                raise ValueErrorAt("levels", f"{self.levels} levels, but order_qty lists {n} "
                                   "sizes (one per level; or leave levels out)")
        return self

    def level_qty(self, level: int) -> Decimal:
        q = self.order_qty
        return q[level] if isinstance(q, list) else q


class MultiSymbolConfig(StrategyConfig):
    """One strategy instance quoting one or several symbols."""

    params_model: ClassVar[type[QuoteParams]] = QuoteParams

    symbol: str | None = Field(None, min_length=1,
                               description="The symbol to quote (or use `symbols`).")
    symbols: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Several symbols to quote.")
    per_symbol: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-symbol overrides of any quoting parameter.")

    @model_validator(mode="after")
    def _symbols(self) -> MultiSymbolConfig:
        if self.symbol is not None and self.symbols:
            raise ValueErrorAt("symbols", "give either `symbol` or `symbols`, not both")
        syms = self.all_symbols()
        if not syms:
            raise ValueErrorAt("symbol", "give `symbol` (or `symbols`): the symbol to quote")
        if len(set(syms)) != len(syms):
            raise ValueErrorAt("symbols", "lists a symbol twice")
        params = self.params_model
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for sym, over in self.per_symbol.items():
            if sym not in syms:
                problems.append((("per_symbol", sym), f"not one of the quoted symbols "
                                 f"({', '.join(syms)})"))
                continue
            unknown = sorted(set(over) - set(params.model_fields))
            for key in unknown:
                problems.append((("per_symbol", sym, key), "unknown parameter; valid: "
                                 + ", ".join(sorted(params.model_fields))))
            if unknown:
                continue
            try:
                self.params_for(sym)
            except ValidationError as e:
                for err in e.errors(include_url=False):
                    cause = (err.get("ctx") or {}).get("error")
                    items = (cause.items if isinstance(cause, ValueErrorAt)
                             else [((), err["msg"].removeprefix("Value error, "))])
                    problems += [(("per_symbol", sym, *err["loc"], *key), msg)
                                 for key, msg in items]
        if problems:
            raise ValueErrorAt.several(problems)
        return self

    def all_symbols(self) -> list[str]:
        return [self.symbol] if self.symbol is not None else list(self.symbols)

    def params_for(self, symbol: str) -> Any:
        """The parameters for ``symbol``: the top-level values, then its overrides."""
        params = self.params_model
        base = {k: getattr(self, k) for k in params.model_fields
                if k in self.model_fields_set or k == "order_qty"}
        over = self.per_symbol.get(symbol, {})
        if "order_qty" in over and "levels" not in over and "levels" not in self.model_fields_set:
            base.pop("levels", None)  # a per-symbol size list sets its own number of levels
        return params.model_validate({**base, **over})
