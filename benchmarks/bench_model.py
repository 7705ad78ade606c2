"""Cost of creating one event: msgspec Struct vs dataclasses vs NamedTuple.

    python benchmarks/bench_model.py

Why events are ``msgspec.Struct(frozen=True, gc=False)``: they are created on the hot path
(one or more per venue message), so construction cost matters more than anything else.
"""

from __future__ import annotations

import timeit
from dataclasses import dataclass
from typing import NamedTuple

import msgspec

from hayate.events import Side, Trade


class FrozenStruct(msgspec.Struct, frozen=True, gc=False):
    symbol: str
    ts: int
    recv_ts: int
    price: int
    qty: int
    side: int
    trade_id: str


@dataclass(frozen=True, slots=True)
class FrozenDataclass:
    symbol: str
    ts: int
    recv_ts: int
    price: int
    qty: int
    side: int
    trade_id: str


@dataclass(slots=True)
class SlottedDataclass:
    symbol: str
    ts: int
    recv_ts: int
    price: int
    qty: int
    side: int
    trade_id: str


class Tuple(NamedTuple):
    symbol: str
    ts: int
    recv_ts: int
    price: int
    qty: int
    side: int
    trade_id: str


def per_call_ns(fn: object, n: int) -> float:
    t = min(timeit.repeat(fn, number=n, repeat=5))  # type: ignore[arg-type]
    base = min(timeit.repeat(lambda: None, number=n, repeat=5))
    return (t - base) / n * 1e9


def main() -> None:
    n = 300_000
    rows = [
        ("msgspec Struct (frozen, gc=False)",
         lambda: FrozenStruct("BTCUSDT", 1, 2, 3, 4, 1, "t")),
        ("hayate.events.Trade (keyword args)",
         lambda: Trade(symbol="BTCUSDT", ts=1, recv_ts=2, price=3, qty=4, side=Side.BUY,
                       trade_id="t")),
        ("dataclass (slots)", lambda: SlottedDataclass("BTCUSDT", 1, 2, 3, 4, 1, "t")),
        ("dataclass (frozen, slots)", lambda: FrozenDataclass("BTCUSDT", 1, 2, 3, 4, 1, "t")),
        ("NamedTuple", lambda: Tuple("BTCUSDT", 1, 2, 3, 4, 1, "t")),
    ]
    measured = [(name, per_call_ns(fn, n)) for name, fn in rows]
    base = measured[0][1]
    print(f"{'construction of a 7-field event':40} {'ns':>8} {'vs Struct':>10}")
    for name, ns in measured:
        print(f"{name:40} {ns:8.0f} {ns / base:9.1f}x")


if __name__ == "__main__":
    main()
