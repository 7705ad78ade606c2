"""Deterministic generator of a realistic Bybit v5 linear public stream (no network).

The stream imitates ``orderbook.200.BTCUSDT`` plus ``publicTrade.BTCUSDT`` on the linear
endpoint, byte for byte in Bybit's shape (key order ``topic,type,ts,data,cts``; prices
with the 2 decimals linear sends on a 0.10 tick; sizes on a 0.001 grid). Same seed, same
lines. ``python benchmarks/gen_bybit_stream.py --messages 1000 --out f.jsonl`` writes a
file, ``--stats`` prints the figures below; the benchmarks import :func:`generate`.

The market, as BTCUSDT perpetual looks on a quiet day:

- a 200-level snapshot, then deltas. The book is dense near the top (a level on every
  tick) with the odd gap further out, and always exactly 200 levels a side, as Bybit
  keeps it: a level pushed out of the window is sent as ``"0"``, one that enters it is
  sent with its size;
- a **one-tick spread** most of the time. It widens briefly when a trade takes the whole
  best level or a maker pulls it, and the next book message usually closes it again;
- the mid follows a fair price: a random walk with calm and busy spells (stochastic
  volatility), a fast move of a few dollars within a second about once a minute, and
  the impact of trades that take a whole level. The walk is calmer than BTC's usual
  40-60 % annualised volatility on purpose: at a 0.10 tick on a ~94 000 price that
  volatility moves the top by several ticks every 50 ms, i.e. deltas of tens of levels,
  not the "few levels per side near the top" the market-data targets are defined on;
- each delta changes one to three levels per side near the top (size changes,
  cancellations, newcomers), plus what the price move and the trades since the last
  book message did;
- about one message in five is a ``publicTrade`` batch of one to three prints at the
  best price (walking to the next level when a print takes a level), sizes heavy-tailed
  (median 0.02 BTC); the book message that follows shows the taken size gone;
- ``u`` rises by one per book message, ``seq`` by a random step, ``ts`` by 10-100 ms.

Statistics of the default stream (seed 7, 1 000 000 messages; ``--stats``): 20.0 %
trade messages, 1.6 prints each; a delta changes 3.9 levels per side on average (median
3, 99th percentile 26: the fast moves); the spread is one tick in 96 % of book messages
(two ticks: 3.8 %, more: 0.2 %); median size 0.83 BTC at the top of the book and 1.1 BTC
over the top 20 levels; 15.3 hours of simulated time in which the mid ranges over
~960 USD, a realised volatility of about 8 % annualised; 317 bytes per message. The
``mm.simple`` quoter of ``bench_pipeline.py`` (5 bps wide) gets about 290 fills from it.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
import sys
import uuid
from bisect import bisect_left, insort
from collections.abc import Iterator

SYMBOL = "BTCUSDT"
TICK = 10  # price units of 0.01 (the 2 decimals linear prices are written with): tick 0.10
LEVELS = 200
START_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
START_PRICE = 9_432_150  # 94321.50, in 0.01 units
_TICK_DIRS = ("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick")


def _px(units: int) -> str:
    return f"{units // 100}.{units % 100:02d}"


def _qty(units: int) -> str:
    if units == 0:
        return "0"  # Bybit sends a bare "0" for a deleted level
    return f"{units // 1000}.{units % 1000:03d}"


class _Side:
    """One side of the generator's book, in ticks: ``levels`` maps tick -> size units and
    ``keys`` holds the ticks sorted so that the best is last (asks are stored negated)."""

    __slots__ = ("keys", "levels", "sign")

    def __init__(self, is_bid: bool) -> None:
        self.sign = 1 if is_bid else -1
        self.levels: dict[int, int] = {}
        self.keys: list[int] = []

    def best(self) -> int:
        return self.sign * self.keys[-1]

    def worst(self) -> int:
        return self.sign * self.keys[0]

    def put(self, tick: int, size: int) -> None:
        if tick not in self.levels:
            insort(self.keys, self.sign * tick)
        self.levels[tick] = size

    def remove(self, tick: int) -> None:
        del self.levels[tick]
        k = self.sign * tick
        keys = self.keys
        if keys[-1] == k:
            keys.pop()
        else:
            del keys[bisect_left(keys, k)]


class StreamGenerator:
    """Stateful generator; :meth:`lines` yields ``n`` JSON lines."""

    def __init__(self, seed: int = 7, levels: int = LEVELS, trade_ratio: float = 0.2,
                 volatility: float = 0.8) -> None:
        self.rng = random.Random(seed)
        self.levels = levels
        self.trade_ratio = trade_ratio
        self.sigma = volatility  # ticks per book message, before the busy/calm factor
        self.bids = _Side(True)
        self.asks = _Side(False)
        self.u = 80_000_000
        self.seq = 300_000_000_000
        self.ts = START_MS
        self.log_vol = 0.0
        self.burst_left = 0  # book messages left in a fast move, and its step in ticks
        self.burst_step = 0.0
        self.last_trade = START_PRICE // TICK
        self.last_dir = 0
        # Changes since the last book message (trades take liquidity between pushes).
        self.pending_b: dict[int, int] = {}
        self.pending_a: dict[int, int] = {}
        bb = START_PRICE // TICK - 1
        self.fair = bb + 0.5 + 0.5
        for i in range(levels):
            self.bids.put(bb - i, self._size(i))
            self.asks.put(bb + 1 + i, self._size(i))

    # -- sizes ---------------------------------------------------------------------------------
    def _size(self, depth: int) -> int:
        # Heavy-tailed, on the 0.001 grid: median ~0.8 BTC at the top, a little more deeper.
        return max(1, int(self.rng.lognormvariate(6.7 + 0.004 * depth, 1.0)))

    def _trade_size(self) -> int:
        return max(1, int(self.rng.lognormvariate(3.0, 1.6)))  # median 0.02 BTC

    # -- JSON ----------------------------------------------------------------------------------
    @staticmethod
    def _levels_json(items: list[tuple[int, int]]) -> str:
        return ",".join(f'["{_px(p * TICK)}","{_qty(q)}"]' for p, q in items)

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
        bids = [(p, self.bids.levels[p]) for p in sorted(self.bids.levels, reverse=True)]
        asks = [(p, self.asks.levels[p]) for p in sorted(self.asks.levels)]
        return self._book_line("snapshot", bids, asks)

    # -- book messages -------------------------------------------------------------------------
    def _set(self, side: _Side, out: dict[int, int], tick: int, size: int) -> None:
        if size:
            side.put(tick, size)
        elif tick in side.levels:
            side.remove(tick)
        else:
            return
        out[tick] = size

    def _move_fair(self) -> None:
        rng = self.rng
        # Log-volatility: mean-reverting AR(1); calm and busy spells of a few minutes.
        self.log_vol = 0.999 * self.log_vol + 0.045 * rng.gauss(0.0, 1.0)
        step = self.sigma * math.exp(self.log_vol) * rng.gauss(0.0, 1.0)
        if self.burst_left:
            self.burst_left -= 1
            step += self.burst_step
        elif rng.random() < 1 / 1000:
            # A fast move (news, a large order working): the price runs for a second or
            # so, 20 ticks per book message on average; such runs are what fills a
            # market maker's outer quotes.
            self.burst_left = rng.randint(4, 16)
            self.burst_step = (1 if rng.random() < 0.5 else -1) * rng.expovariate(1 / 20)
        self.fair += step

    def _discover(self, out_b: dict[int, int], out_a: dict[int, int]) -> None:
        """Move the top to the fair price: levels in the way are taken or pulled, and the
        other side follows one tick behind, so the spread stays at one tick."""
        bids, asks = self.bids, self.asks
        new_bb = math.floor(self.fair - 0.5)
        new_ba = new_bb + 1
        while asks.keys and asks.best() < new_ba:
            self._set(asks, out_a, asks.best(), 0)
        while bids.keys and bids.best() > new_bb:
            self._set(bids, out_b, bids.best(), 0)
        # Close the spread: the moved side's new top levels fill in, densely.
        top = bids.best() if bids.keys else new_bb - 1
        for p in range(top + 1, new_bb + 1):
            self._set(bids, out_b, p, self._size(new_bb - p))
        top = asks.best() if asks.keys else new_ba + 1
        for p in range(new_ba, top):
            self._set(asks, out_a, p, self._size(p - new_ba))

    def _churn(self, side: _Side, out: dict[int, int], n: int) -> None:
        rng = self.rng
        sign = side.sign
        for _ in range(n):
            best = side.best()
            i = int(rng.random() * rng.random() * 10)  # favours the top of the book
            p = best - sign * i
            q = side.levels.get(p)
            r = rng.random()
            if q is None:  # a gap near the top: a newcomer fills it
                self._set(side, out, p, self._size(i))
            elif r < 0.45:  # someone cancels part of the level
                self._set(side, out, p, max(1, q - max(1, int(q * rng.random() * 0.7))))
            elif r < 0.85:  # someone joins
                self._set(side, out, p, q + self._size(i) // 3 + 1)
            elif r < 0.93 and i > 0:  # the whole level is pulled (leaves a gap)
                self._set(side, out, p, 0)
            else:
                self._set(side, out, p, self._size(i))

    def _window(self, side: _Side, out: dict[int, int]) -> None:
        """Exactly ``levels`` levels, as Bybit keeps the window of ``orderbook.200``."""
        rng = self.rng
        while len(side.keys) > self.levels:
            self._set(side, out, side.worst(), 0)
        while len(side.keys) < self.levels:
            step = 1 if rng.random() < 0.85 else 2  # the odd gap far from the top
            w = side.worst() - side.sign * step
            self._set(side, out, w, self._size(self.levels))

    def delta(self) -> str:
        rng = self.rng
        out_b, out_a = self.pending_b, self.pending_a
        self.pending_b, self.pending_a = {}, {}
        self._move_fair()
        self._discover(out_b, out_a)
        nb = rng.choice((0, 1, 1, 2, 2, 3))
        na = rng.choice((0, 1, 1, 2, 2, 3)) if nb else rng.choice((1, 2, 3))
        self._churn(self.bids, out_b, nb)
        self._churn(self.asks, out_a, na)
        if rng.random() < 0.04:  # a maker pulls the best level: the spread widens briefly
            side, out = (self.bids, out_b) if rng.random() < 0.5 else (self.asks, out_a)
            self._set(side, out, side.best(), 0)
        self._window(self.bids, out_b)
        self._window(self.asks, out_a)
        return self._book_line("delta", sorted(out_b.items(), reverse=True),
                               sorted(out_a.items()))

    # -- trades --------------------------------------------------------------------------------
    def trades(self) -> str:
        rng = self.rng
        mid = (self.bids.best() + self.asks.best()) / 2
        # Aggressors lean towards where the fair price is.
        buy = rng.random() < 0.5 + max(-0.3, min(0.3, 0.2 * (self.fair - mid)))
        side, pending = (self.asks, self.pending_a) if buy else (self.bids, self.pending_b)
        n = rng.choice((1, 1, 1, 2, 3))
        items = []
        for _ in range(n):
            p = side.best()
            have = side.levels[p]
            qty = self._trade_size()
            if qty >= have:  # the print takes the whole level; the price ticks through
                qty = have
                side.remove(p)
                pending[p] = 0
                self.fair += 1 if buy else -1
            else:
                side.levels[p] = pending[p] = have - qty
            if p != self.last_trade:
                self.last_dir = 0 if p > self.last_trade else 2
            else:
                self.last_dir |= 1
            self.last_trade = p
            tid = uuid.UUID(int=rng.getrandbits(128), version=4)
            self.seq += 1
            items.append(
                f'{{"T":{self.ts},"s":"{SYMBOL}","S":"{"Buy" if buy else "Sell"}",'
                f'"v":"{_qty(qty)}","p":"{_px(p * TICK)}","L":"{_TICK_DIRS[self.last_dir]}",'
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


def stats(lines: Iterator[str]) -> str:
    """The figures the module docstring quotes, measured on ``lines``."""
    import json

    book_b: dict[str, float] = {}
    book_a: dict[str, float] = {}
    per_side: list[int] = []
    spreads: dict[int, int] = {}
    tops: list[float] = []
    sizes: list[float] = []
    mids: list[float] = []
    prints = trade_msgs = n = nbytes = 0
    t0 = t1 = 0
    for line in lines:
        n += 1
        nbytes += len(line)
        m = json.loads(line)
        t1 = m["ts"]
        t0 = t0 or t1
        if m["topic"].startswith("publicTrade"):
            trade_msgs += 1
            prints += len(m["data"])
            continue
        d = m["data"]
        if m["type"] == "snapshot":
            book_b.clear()
            book_a.clear()
        else:
            per_side += [len(d["b"]), len(d["a"])]
        for book, lv in ((book_b, d["b"]), (book_a, d["a"])):
            for p, q in lv:
                if q == "0":
                    book.pop(p, None)
                else:
                    book[p] = float(q)
        bb = max(book_b, key=float)
        ba = min(book_a, key=float)
        s = round((float(ba) - float(bb)) / (TICK / 100))
        spreads[s] = spreads.get(s, 0) + 1
        mids.append((float(ba) + float(bb)) / 2)
        if n % 50 == 0:
            tops += [book_b[bb], book_a[ba]]
            sizes += list(book_b.values())[:20]
    books = sum(spreads.values())
    rets = [math.log(b / a) for a, b in itertools.pairwise(mids)]
    years = (t1 - t0) / 1000 / (365 * 86400)
    vol = math.sqrt(sum(r * r for r in rets) / years) if years else 0.0
    q = statistics.quantiles(per_side, n=100)
    return "\n".join([
        f"messages {n:,}; trade messages {trade_msgs:,} ({trade_msgs / n:.1%}), "
        f"{prints / max(1, trade_msgs):.2f} prints each",
        f"levels per side per delta: mean {statistics.fmean(per_side):.2f}, median "
        f"{statistics.median(per_side):.0f}, p99 {q[98]:.0f}, max {max(per_side)}",
        "spread in ticks (share of book messages): " + ", ".join(
            f"{k}: {v / books:.1%}" for k, v in sorted(spreads.items())[:6]),
        f"median top-of-book size {statistics.median(tops):.3f}; median level "
        f"{statistics.median(sizes):.3f}",
        f"simulated time {(t1 - t0) / 3.6e6:.1f} h; mid from {min(mids):.1f} to "
        f"{max(mids):.1f}; realised volatility {vol:.1%} annualised",
        f"{nbytes / n:.0f} bytes per message",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--levels", type=int, default=LEVELS)
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    ap.add_argument("--stats", action="store_true", help="print the stream's statistics")
    args = ap.parse_args(argv)
    if args.stats:
        print(stats(generate(args.messages, args.seed, args.levels)))
        return 0
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
