"""Check time: what sources will deliver, and whether the rest of the spec fits it.

``hayate check`` runs no component, yet whether a strategy's symbol exists or its order
size is on the lot step depends on the instruments its sources will deliver, which a bot
learns in ``setup()``. So a component may declare, from its config alone:

- a source (``Collector.preview`` / ``Executor.preview``): the symbols it will deliver and
  the trading rules it already knows, as a :class:`SourcePreview`;
- a strategy (``Strategy.check_market``): what it makes of what its inputs deliver, given a
  :class:`MarketPreview`, reporting problems through :class:`SpecCheck`.

Both hooks are classmethods with do-nothing defaults on the base classes (third-party
components override them the same way), run by ``hayate check`` and ``hayate run`` before
anything starts. They must be quick and must not touch the network: reading a file's
header is fine, scanning a recording is not. What they cannot tell (rules fetched from a
venue at start-up) they leave out, and the checks that need it are skipped.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from hayate.instruments import Instrument
from hayate.spec.errors import KeyPath, Problem, format_path

__all__ = ["MarketPreview", "SourcePreview", "SpecCheck"]


@dataclass(frozen=True)
class SourcePreview:
    """What a source will deliver, as far as its config tells before it runs.

    ``symbols``: the symbols whose market data it will deliver (``None``: cannot tell).
    ``instruments``: the trading rules it already knows (from its config, a file header).
    """

    symbols: frozenset[str] | None = None
    instruments: tuple[Instrument, ...] = field(default=())

    @classmethod
    def of(cls, instruments: Iterable[Instrument]) -> SourcePreview:
        """Exactly these instruments, rules included (a simulated market, a recording)."""
        listed = tuple(instruments)
        return cls(frozenset(i.symbol for i in listed), listed)

    @classmethod
    def symbols_only(cls, symbols: Iterable[str]) -> SourcePreview:
        """These symbols, rules unknown until the run (a live feed fetches them)."""
        return cls(frozenset(symbols))

    @classmethod
    def no_market_data(cls) -> SourcePreview:
        """Events without market data: a timer, a private account stream."""
        return cls(frozenset())


class SpecCheck:
    """Handed to a check-time hook: report problems at keys of the component's own table.

    ``check.problem("order_qty", "...")`` or ``check.problem(("per_symbol", "ETHUSDT",
    "order_qty"), "...")``; the spec file and the component's path are added.
    """

    def __init__(self, file: str, prefix: KeyPath, sink: list[Problem]) -> None:
        self.file = file
        self.prefix = prefix
        self._sink = sink

    @property
    def component(self) -> str:
        """The component's key path, e.g. ``collectors.market``."""
        return format_path(self.prefix)

    def problem(self, key: KeyPath | str | int, message: str, *,
                choices: Sequence[str] = (), hint: str | None = None) -> None:
        path = (key,) if isinstance(key, str | int) else tuple(key)
        self._sink.append(Problem(self.file, (*self.prefix, *path), message,
                                  choices=tuple(choices), hint=hint))


class MarketPreview:
    """What a strategy's inputs will deliver, for ``Strategy.check_market``.

    ``symbols`` is ``None`` when some input cannot tell (then no symbol is refused);
    ``instrument(symbol)`` gives the trading rules when some source of the bot declared them
    (instruments are shared by the whole bot, as at run time).
    """

    def __init__(self, symbols: frozenset[str] | None, delivered_by: Mapping[str, frozenset[str]],
                 rules: Mapping[str, tuple[Instrument, str]]) -> None:
        self.symbols = symbols
        self.delivered_by = dict(delivered_by)  # source path -> its symbols (known ones)
        self._rules = dict(rules)

    def instrument(self, symbol: str) -> Instrument | None:
        found = self._rules.get(symbol)
        return found[0] if found else None

    def rules_from(self, symbol: str) -> str | None:
        """Which component declared ``symbol``'s rules, e.g. ``collectors.market``."""
        found = self._rules.get(symbol)
        return found[1] if found else None

    def require_symbol(self, check: SpecCheck, key: KeyPath | str | int, symbol: str) -> bool:
        """Report ``symbol`` when no input delivers it (False); True when one does or may."""
        if self.symbols is None or symbol in self.symbols:
            return True
        known = sorted(self.symbols)
        by = "; ".join(f"{src} delivers {', '.join(sorted(s)) or 'no symbol'}"
                       for src, s in sorted(self.delivered_by.items())) or "it has no input"
        close = difflib.get_close_matches(symbol, known, n=1, cutoff=0.8)  # BTCUSTD, not ETHUSDT
        guess = close[0] if close else None
        check.problem(key, f"no input of this strategy delivers {symbol!r} ({by}), so it would "
                      "never see its market", choices=known,
                      hint=f"did you mean {guess!r}?" if guess else None)
        return False

    def check_qty(self, check: SpecCheck, key: KeyPath | str | int, symbol: str,
                  qty: Decimal) -> bool:
        """Report a size the instrument's rules (when known) refuse; True if it is fine."""
        inst = self.instrument(symbol)
        reason = inst.check_qty(qty) if inst is not None else None
        if inst is None or reason is None:
            return True
        near = [f"{q:f}" for q in inst.valid_qtys_near(qty)]
        check.problem(key, f"{reason} for {symbol} (rules from {self.rules_from(symbol)}), so "
                      "every order would be rejected", choices=near)
        return False

    def check_price(self, check: SpecCheck, key: KeyPath | str | int, symbol: str,
                    price: Decimal) -> bool:
        """Report a price off the instrument's tick (when known); True if it is fine."""
        inst = self.instrument(symbol)
        reason = inst.check_price(price) if inst is not None else None
        if inst is None or reason is None:
            return True
        near = [f"{p:f}" for p in inst.valid_prices_near(price)]
        check.problem(key, f"{reason} for {symbol} (rules from {self.rules_from(symbol)}), so "
                      "every order would be rejected", choices=near)
        return False
