"""Run outputs of one venue: the fill log (``fills.jsonl``) and the sampled equity curve
(``equity.csv``), written by the run's recorder for every executor alike.

Both are written as the run goes (buffered), so memory stays flat however long the replay,
and both contain only the clock's times and exact decimal strings, so in a simulation the
same data, spec and seed give byte-identical files.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import IO

import msgspec

from hayate.accounting.stats import fmt_decimal
from hayate.clock import format_ns
from hayate.events import Fill

__all__ = ["EquityWriter", "FillLog", "fmt_decimal"]


class FillRecord(msgspec.Struct, frozen=True):
    ts: int
    time: str
    delivered_ts: int
    symbol: str
    side: str
    price: str
    qty: str
    fee: str
    fee_asset: str
    liquidity: str
    order_id: str
    client_id: str
    fill_id: str
    leaves_qty: str


class FillLog:
    """One JSON object per line, per fill, in the order the venue made them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] | None = open(path, "wb", buffering=1 << 16)  # noqa: SIM115
        self._enc = msgspec.json.Encoder()
        self.n = 0

    def write(self, fill: Fill, t: int) -> None:
        if self._fh is None:
            return
        rec = FillRecord(
            ts=t, time=format_ns(t), delivered_ts=fill.recv_ts, symbol=fill.symbol,
            side=fill.side.value, price=str(fill.price), qty=str(fill.qty), fee=str(fill.fee),
            fee_asset=fill.fee_asset, liquidity=fill.liquidity.value, order_id=fill.order_id,
            client_id=fill.client_id, fill_id=fill.fill_id, leaves_qty=str(fill.leaves_qty),
        )
        self._fh.write(self._enc.encode(rec) + b"\n")
        self.n += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class EquityWriter:
    """``equity.csv``: account equity, P&L and per-symbol position/mark at sample times."""

    def __init__(self, path: Path, symbols: list[str]) -> None:
        self.path = path
        self.symbols = symbols
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: io.TextIOWrapper | None = open(path, "w", buffering=1 << 16,  # noqa: SIM115
                                                  newline="", encoding="utf-8")
        cols = ["ts", "time", "equity", "realized_pnl", "unrealized_pnl", "fees", "net_pnl",
                "drawdown"]
        for s in symbols:
            cols += [f"{s}_position", f"{s}_mark"]
        self._fh.write(",".join(cols) + "\n")
        self.rows = 0

    def write(self, t: int, equity: Decimal | None, realized: Decimal, unrealized: Decimal,
              fees: Decimal, net: Decimal, drawdown: Decimal,
              positions: dict[str, Decimal], marks: dict[str, Decimal | None]) -> None:
        if self._fh is None:
            return
        f = fmt_decimal
        row = [str(t), format_ns(t), f(equity), f(realized), f(unrealized), f(fees), f(net),
               f(drawdown)]
        for s in self.symbols:
            row += [f(positions.get(s, Decimal(0)), 12), f(marks.get(s), 12)]
        self._fh.write(",".join(row) + "\n")
        self.rows += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
