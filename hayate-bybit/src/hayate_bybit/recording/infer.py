"""Last resort for files without trading rules: the decimal grid, read off the data.

A recording carries instruments-info in its header; Bybit's history files do not. When
the spec gives no ``instruments`` rules either, the number of decimals of prices and sizes
is taken as the largest seen in the first ``max_lines`` lines. Limits (also in
docs/market-data.md):

- the result is a *decimal grid*, not the real tick: a 0.5 tick looks like 0.1, and a
  spot tick of 0.01 looks like 0.1 if every price seen ends in 0. Books and trades are
  exact either way; order rounding in a paper run is not, so give real rules there;
- a value with more decimals after the scanned lines cannot be represented: that frame is
  counted as malformed and the book waits for its next snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import msgspec

from hayate.exceptions import InvalidNumber
from hayate.instruments import Instrument
from hayate.numbers import check_id, parse_decimal
from hayate_bybit.recording.files import open_lines
from hayate_bybit.recording.format import Line
from hayate_bybit.recording.sources import TradeColumns, sniff, symbol_from_filename

__all__ = ["infer_instruments"]


class _Levels(msgspec.Struct):
    s: str = ""
    b: list[tuple[str, str]] = []
    a: list[tuple[str, str]] = []


class _Trade(msgspec.Struct):
    s: str = ""
    v: str = ""
    p: str = ""


class _Any(msgspec.Struct):
    topic: str = ""
    data: _Levels | list[_Trade] | None = None


def _decimals(text: str) -> int:
    _, dot, frac = text.partition(".")
    return len(frac.rstrip("0")) if dot else 0


class _Grid:
    def __init__(self) -> None:
        self.price: dict[str, int] = {}
        self.qty: dict[str, int] = {}

    def see(self, symbol: str, price: str, qty: str) -> None:
        """Take a level's decimals, if it is a level at all: a value no strict reader
        accepts (not a plain decimal, too long, negative) must not shape the grid."""
        if not symbol:
            return
        try:
            check_id(symbol, "symbol")
            parse_decimal(price, sign="positive")
            parse_decimal(qty, sign="non_negative")
        except InvalidNumber:
            return
        self.price[symbol] = max(self.price.get(symbol, 0), _decimals(price))
        self.qty[symbol] = max(self.qty.get(symbol, 0), _decimals(qty))


def infer_instruments(
    paths: Iterable[str | Path],
    *,
    category: str = "linear",
    symbols: Iterable[str] | None = None,
    csv_symbol: str | None = None,
    max_lines: int = 20_000,
) -> list[Instrument]:
    """Instruments with ``tick_size = 10**-price decimals`` and ``qty_step = 10**-qty
    decimals`` for every symbol seen in the first ``max_lines`` lines of each file."""
    grid = _Grid()
    decode = msgspec.json.Decoder(_Any).decode
    decode_line = msgspec.json.Decoder(Line).decode
    for path in paths:
        kind, _, csv_header = sniff(path)
        lines = open_lines(path)
        if kind == "trades_csv":
            assert csv_header is not None
            cols = TradeColumns.from_header(csv_header)
            fallback = csv_symbol or symbol_from_filename(path) or ""
            next(lines, None)
            for n, line in enumerate(lines):
                if n >= max_lines:
                    break
                parts = line.split(",")
                if len(parts) < cols.width:
                    continue
                sym = parts[cols.symbol].strip() if cols.symbol is not None else fallback
                grid.see(sym, parts[cols.price].strip(), parts[cols.qty].strip())
            continue
        if kind == "recording":
            next(lines, None)
        for n, line in enumerate(lines):
            if n >= max_lines:
                break
            try:
                if kind == "recording":
                    frame = decode_line(line).frame
                    if frame is None:
                        continue
                    msg = decode(frame)
                else:
                    msg = decode(line)
            except (msgspec.DecodeError, RecursionError):  # msgspec recurses on deep nesting
                continue
            data = msg.data
            if isinstance(data, _Levels):
                for p, q in data.b:
                    grid.see(data.s, p, q)
                for p, q in data.a:
                    grid.see(data.s, p, q)
            elif isinstance(data, list) and msg.topic.startswith("publicTrade."):
                for t in data:
                    grid.see(t.s, t.p, t.v)
    wanted = set(symbols) if symbols else None
    out = []
    for sym, pd in sorted(grid.price.items()):
        if wanted is not None and sym not in wanted:
            continue
        out.append(Instrument(symbol=sym, category=category,  # type: ignore[arg-type]
                              venue="bybit", tick_size=Decimal(1).scaleb(-pd),
                              qty_step=Decimal(1).scaleb(-grid.qty[sym])))
    return out
