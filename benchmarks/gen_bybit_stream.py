"""Deterministic generator of a realistic Bybit v5 linear public stream (no network).

The stream imitates ``orderbook.200.BTCUSDT`` plus ``publicTrade.BTCUSDT`` on the linear
endpoint, byte for byte in Bybit's shape (key order ``topic,type,ts,data,cts``; prices with
the fixed 2 decimals linear sends; sizes on a 0.001 grid):

- one 200-level snapshot, then deltas that change one to three levels per side close to
  the top (size updates, deletes, inserts inside the spread), and keep the book at 200
  levels a side the way Bybit does (a level that falls out of the window is sent as a
  ``"0"``, a level that enters it is sent with its size); the book never crosses;
- ``u`` rises by one per book message, ``seq`` by a random step, ``ts`` by 10-100 ms;
- about one message in five is a ``publicTrade`` message with one to three trades.

Same seed, same lines. ``python benchmarks/gen_bybit_stream.py --messages 1000 --out f.jsonl``
writes a file; the benchmark imports :func:`generate`.
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections.abc import Iterator

SYMBOL = "BTCUSDT"
TICK = 10  # price units of 0.01: tick 0.10
LEVELS = 200
START_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z


def _px(units: int) -> str:
    return f"{units // 100}.{units % 100:02d}"


def _qty(units: int) -> str:
    if units == 0:
        return "0"  # Bybit sends a bare "0" for a deleted level
    return f"{units // 1000}.{units % 1000:03d}"


class _Side:
    """One side of the generator's own book: price units -> size units."""

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, int] = {}

    def best(self) -> int:
        return max(self.levels) if self.is_bid else min(self.levels)

    def worst(self) -> int:
        return min(self.levels) if self.is_bid else max(self.levels)

    def near_top(self, n: int) -> list[int]:
        return sorted(self.levels, reverse=self.is_bid)[:n]


class StreamGenerator:
    """Stateful generator; :meth:`lines` yields ``n`` JSON lines."""

    def __init__(self, seed: int = 7, levels: int = LEVELS, trade_ratio: float = 0.2) -> None:
        self.rng = random.Random(seed)
        self.levels = levels
        self.trade_ratio = trade_ratio
        self.bids = _Side(True)
        self.asks = _Side(False)
        self.u = 80_000_000
        self.seq = 300_000_000_000
        self.ts = START_MS
        mid = 9_432_150  # 94321.50
        for i in range(levels):
            self.bids.levels[mid - TICK * (i + 1)] = self._size()
            self.asks.levels[mid + TICK * i] = self._size()

    def _size(self) -> int:
        # Heavy-tailed, on the 0.001 grid: many small resting sizes, a few large ones.
        return max(1, int(self.rng.lognormvariate(6.0, 1.6)))

    def _levels_json(self, items: list[tuple[int, int]]) -> str:
        return ",".join(f'["{_px(p)}","{_qty(q)}"]' for p, q in items)

    def _book_line(self, kind: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> str:
        self.u += 1
        self.seq += self.rng.randint(1, 400)
        cts = self.ts - self.rng.randint(1, 30)
        return (
            f'{{"topic":"orderbook.{self.levels}.{SYMBOL}","type":"{kind}","ts":{self.ts},'
            f'"data":{{"s":"{SYMBOL}","b":[{self._levels_json(bids)}],'
            f'"a":[{self._levels_json(asks)}],"u":{self.u},"seq":{self.seq}}},"cts":{cts}}}'
        )

    def snapshot(self) -> str:
        bids = sorted(self.bids.levels.items(), reverse=True)
        asks = sorted(self.asks.levels.items())
        return self._book_line("snapshot", bids, asks)

    def _change_side(self, side: _Side, other: _Side, out: dict[int, int]) -> None:
        rng = self.rng
        r = rng.random()
        top = side.near_top(8)
        if r < 0.6:  # size change of a level near the top
            p = rng.choice(top)
            side.levels[p] = out[p] = self._size()
        elif r < 0.8 and len(top) > 1:  # a level near the top disappears (often the best)
            p = top[0] if rng.random() < 0.5 else rng.choice(top)
            del side.levels[p]
            out[p] = 0
        else:  # a new level: inside the spread when there is room, else in a gap near the top
            step = TICK if side.is_bid else -TICK
            best, opp = side.best(), other.best()
            cand = best + step
            if (side.is_bid and cand >= opp) or (not side.is_bid and cand <= opp):
                cand = best - step * rng.randint(1, 8)
            if cand not in side.levels:
                side.levels[cand] = out[cand] = self._size()
        # Keep the depth window at exactly ``levels`` levels, as Bybit does.
        while len(side.levels) > self.levels:
            w = side.worst()
            del side.levels[w]
            out[w] = 0
        while len(side.levels) < self.levels:
            w = side.worst() + (-TICK if side.is_bid else TICK)
            side.levels[w] = out[w] = self._size()

    def delta(self) -> str:
        rng = self.rng
        nb = rng.choice((0, 1, 1, 2, 2, 3))
        na = rng.choice((0, 1, 1, 2, 2, 3)) if nb else rng.choice((1, 2, 3))
        bid_out: dict[int, int] = {}
        ask_out: dict[int, int] = {}
        for _ in range(nb):
            self._change_side(self.bids, self.asks, bid_out)
        for _ in range(na):
            self._change_side(self.asks, self.bids, ask_out)
        return self._book_line(
            "delta", sorted(bid_out.items(), reverse=True), sorted(ask_out.items())
        )

    def trades(self) -> str:
        rng = self.rng
        n = rng.choice((1, 1, 1, 2, 3))
        items = []
        for _ in range(n):
            buy = rng.random() < 0.5
            p = self.asks.best() if buy else self.bids.best()
            tid = uuid.UUID(int=rng.getrandbits(128), version=4)
            self.seq += 1
            items.append(
                f'{{"T":{self.ts},"s":"{SYMBOL}","S":"{"Buy" if buy else "Sell"}",'
                f'"v":"{_qty(max(1, int(rng.lognormvariate(3.0, 1.5))))}","p":"{_px(p)}",'
                f'"L":"{rng.choice(("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick"))}",'
                f'"i":"{tid}","BT":false,"RPI":false,"seq":{self.seq}}}'
            )
        return (f'{{"topic":"publicTrade.{SYMBOL}","type":"snapshot","ts":{self.ts},'
                f'"data":[{",".join(items)}]}}')

    def lines(self, n: int, *, with_snapshot: bool = True) -> Iterator[str]:
        """``n`` more lines (the first one a snapshot when ``with_snapshot``)."""
        rng = self.rng
        for i in range(n):
            self.ts += rng.randint(10, 100)
            if i == 0 and with_snapshot:
                yield self.snapshot()
            elif rng.random() < self.trade_ratio:
                yield self.trades()
            else:
                yield self.delta()


def generate(n: int, seed: int = 7, levels: int = LEVELS) -> Iterator[str]:
    """``n`` lines of the stream: a snapshot, then deltas and trades."""
    return StreamGenerator(seed, levels).lines(n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--levels", type=int, default=LEVELS)
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    args = ap.parse_args(argv)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for line in generate(args.messages, args.seed, args.levels):
            out.write(line)
            out.write("\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
