"""Bybit market data: decode + sequence + apply throughput against the bare decode floor.

    python benchmarks/bench_market_data.py                 # 1,000,000 messages
    python benchmarks/bench_market_data.py --messages 200000 --profile

The stream comes from ``gen_bybit_stream.py`` (deterministic: a 200-level linear
snapshot, then deltas of a few levels near the top, one message in five a trade batch),
generated chunk by chunk so the input never dominates memory. On every chunk, side by side:

- **floor**: msgspec decoding each line into typed structs, nothing else (the fastest
  JSON decoder alone: the ceiling for any Python pipeline that reads these frames);
- **+convert**, **+apply** (breakdown): the floor plus converting every price and size to
  integer units, then plus applying deltas to a book, without sequencing or events;
- **hayate**: ``PublicDecoder.feed`` -- decode, sequence (``u`` checks), convert prices and
  sizes to exact integer units, apply to the sequencer's own ``OrderBook``, check for a
  crossed book and build the ``BookDelta`` / ``Trade`` events: everything ``bybit.public``
  and ``bybit.replay`` do per frame;
- **hayate+state**: the same plus ``core.orderbook`` applying each event (a second book, as
  a replay feeding a strategy does);
- **apply only**: applying the deltas, already in integer units, to an ``OrderBook``
  (``apply_delta``; compiled when the accelerator is built), nothing else: the book's own
  share. Not cumulative: its ratio says how many floors one apply costs;
- **hayate/text**, **hayate/text+state**: the same two on the pure-Python path (levels
  decoded as strings), when the compiled path (``hayate._speedups``) is built: the two are
  measured side by side on the same lines;
- **naive** (first chunks only, ``--naive-messages``): stdlib ``json`` + a
  ``sortedcontainers`` book keyed by ``Decimal``, the straightforward approach.

Ratios are of CPU time, measured on the same lines in the same run; the absolute rates are
wall-clock and depend on the machine (and on whatever else runs on it). Then: peak memory,
the memory of a 1000-level book, and (``--profile``) where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_bybit_stream import StreamGenerator

from hayate.book import OrderBook, OrderBookState
from hayate.book.state import OrderBookStateConfig
from hayate.clock import SimClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.instruments import Instrument
from hayate_bybit.schemas.public import BookData, TradeData
from hayate_bybit.ws.decoder import PublicDecoder

INSTRUMENT = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.10"), qty_step=Decimal("0.001"))


class AnyMessage(msgspec.Struct, gc=False):
    """The floor's target: every field of both message kinds, typed, in one struct."""

    topic: str
    ts: int
    data: BookData | list[TradeData]
    type: str = ""
    cts: int = 0


def floor_run(lines: list[str]) -> None:
    decode = msgspec.json.Decoder(AnyMessage).decode
    for line in lines:
        decode(line)


def floor_cpu(path: str) -> float:
    """CPU seconds of the floor over every line of the file ``path`` (read first, untimed):
    the baseline the file-driven benchmarks (pipeline, join-the-touch) measure against."""
    with open(path, "rb") as fh:
        lines = fh.read().splitlines()
    decode = msgspec.json.Decoder(AnyMessage).decode
    gc.collect()
    c0 = time.process_time()
    for line in lines:
        decode(line)
    return time.process_time() - c0


def make_convert(apply: bool) -> Callable[[list[str]], None]:
    """Breakdown stages: decode + price/size conversion (+ book apply), no sequencing or
    events; the same cache-then-parse conversion the pipeline uses."""
    decode = msgspec.json.Decoder(AnyMessage).decode
    pp, qp = INSTRUMENT.price_parser, INSTRUMENT.qty_parser
    pc, qc = pp.cache, qp.cache
    book = OrderBook("BTCUSDT")

    def levels(raw: list[tuple[str, str]]) -> list[tuple[int, int]]:
        out = []
        append = out.append
        for p, q in raw:
            try:
                pu = pc[p]
            except KeyError:
                pu = pp(p)
            try:
                qu = qc[q]
            except KeyError:
                qu = qp(q)
            append((pu, qu))
        return out

    def run(lines: list[str]) -> None:
        for line in lines:
            m = decode(line)
            d = m.data
            if type(d) is BookData:
                if m.type == "snapshot":
                    book.apply_snapshot(levels(d.b), levels(d.a))
                elif apply:
                    book.apply_delta_text(d.b, d.a, pc, qc, pp, qp)
                else:
                    levels(d.b)
                    levels(d.a)
            else:
                for t in d:
                    try:
                        pc[t.p]
                    except KeyError:
                        pp(t.p)
                    try:
                        qc[t.v]
                    except KeyError:
                        qp(t.v)

    return run


class ApplyOnly:
    """The book's share alone: deltas converted to integer units beforehand (untimed), then
    applied one message at a time to a book that lives across chunks."""

    def __init__(self) -> None:
        self.book = OrderBook("BTCUSDT")
        self.decode = msgspec.json.Decoder(AnyMessage).decode
        pp, qp = INSTRUMENT.price_parser, INSTRUMENT.qty_parser
        self.units = lambda raw: [(pp(p), qp(q)) for p, q in raw]

    def prepare(self, lines: list[str]) -> list[tuple[list[tuple[int, int]],
                                                     list[tuple[int, int]]]]:
        deltas = []
        for line in lines:
            m = self.decode(line)
            if type(m.data) is BookData:
                if m.type == "snapshot":
                    self.book.apply_snapshot(self.units(m.data.b), self.units(m.data.a))
                else:
                    deltas.append((self.units(m.data.b), self.units(m.data.a)))
        return deltas

    def run(self, deltas: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]) -> None:
        apply = self.book.apply_delta
        for b, a in deltas:
            apply(b, a)


def make_hayate(accelerated: bool | None = None) -> Callable[[list[str]], None]:
    decoder = PublicDecoder({"BTCUSDT": INSTRUMENT}, accelerated=accelerated)

    def run(lines: list[str]) -> None:
        feed = decoder.feed
        for i, line in enumerate(lines):
            feed(line, i + 1)

    run.decoder = decoder  # type: ignore[attr-defined]
    return run


def make_hayate_state(accelerated: bool | None = None) -> Callable[[list[str]], None]:
    decoder = PublicDecoder({"BTCUSDT": INSTRUMENT}, accelerated=accelerated)
    bot = BotContext(name="bench", clock=SimClock(), seed=0, out_dir=None, mode="paper",
                     client_ids=ClientIdFactory("b"))
    state = OrderBookState("books", OrderBookStateConfig(type="core.orderbook"),
                           ComponentContext(bot, "books", "core.orderbook", "states"))

    def run(lines: list[str]) -> None:
        feed = decoder.feed
        apply = state.apply
        for i, line in enumerate(lines):
            for ev in feed(line, i + 1):
                apply(ev)

    run.state = state  # type: ignore[attr-defined]
    return run


def make_naive() -> Callable[[list[str]], None]:
    from sortedcontainers import SortedDict

    bids: SortedDict = SortedDict()
    asks: SortedDict = SortedDict()

    def run(lines: list[str]) -> None:
        for line in lines:
            msg = json.loads(line)
            data = msg["data"]
            if msg["topic"].startswith("orderbook."):
                if msg["type"] == "snapshot":
                    bids.clear()
                    asks.clear()
                for side, key in ((bids, "b"), (asks, "a")):
                    for p, q in data[key]:
                        price, size = Decimal(p), Decimal(q)
                        if size:
                            side[price] = size
                        else:
                            side.pop(price, None)
                if bids and asks and bids.peekitem(-1)[0] >= asks.peekitem(0)[0]:
                    raise AssertionError("crossed")
            else:
                for t in data:
                    Decimal(t["p"]), Decimal(t["v"])

    return run


def cpu(fn: Callable[[list[str]], None], lines: list[str]) -> tuple[float, float]:
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    fn(lines)
    return time.process_time() - c0, time.perf_counter() - w0


def book_memory(levels: int) -> int:
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    book = OrderBook("BTCUSDT")
    mid = 9_432_150
    book.apply_snapshot([(mid - 10 * i, 1000 + 7 * i) for i in range(1, levels + 1)],
                        [(mid + 10 * i, 2000 + 3 * i) for i in range(levels)])
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert book.levels() == (levels, levels)
    return after - before


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--naive-messages", type=int, default=100_000,
                    help="messages for the naive json+sortedcontainers baseline (0: skip)")
    ap.add_argument("--profile", action="store_true", help="cProfile one chunk of the pipeline")
    args = ap.parse_args(argv)

    gen = StreamGenerator(args.seed)
    runs = {"floor": floor_run, "+convert": make_convert(False), "+apply": make_convert(True),
            "hayate": make_hayate(), "hayate+state": make_hayate_state()}
    from hayate.book import accel

    print(f"path: {accel.describe()}")
    if accel.ACCELERATED:
        runs["hayate/text"] = make_hayate(False)
        runs["hayate/text+state"] = make_hayate_state(False)
    naive = make_naive() if args.naive_messages else None
    apply_only = ApplyOnly()
    cpu_s = {k: 0.0 for k in (*runs, "naive", "apply only")}
    wall_s = dict(cpu_s)
    ratios: list[float] = []
    naive_floor_cpu = 0.0
    done = 0
    input_bytes = 0
    gen_s = 0.0
    gc.freeze()
    print(f"stream: BTCUSDT linear, 200-level snapshot, deltas near the top, ~1 in 5 trades; "
          f"{args.messages:,} messages in chunks of {args.chunk:,}")
    while done < args.messages:
        n = min(args.chunk, args.messages - done)
        t0 = time.perf_counter()
        lines = list(gen.lines(n, with_snapshot=done == 0))
        gen_s += time.perf_counter() - t0
        input_bytes += sum(map(len, lines))
        chunk_cpu = {}
        for name, fn in runs.items():
            c, w = cpu(fn, lines)
            cpu_s[name] += c
            wall_s[name] += w
            chunk_cpu[name] = c
        deltas = apply_only.prepare(lines)
        c, w = cpu(apply_only.run, deltas)  # type: ignore[arg-type]
        cpu_s["apply only"] += c
        wall_s["apply only"] += w
        del deltas
        ratios.append(chunk_cpu["floor"] / chunk_cpu["hayate"])
        if naive is not None and done < args.naive_messages:
            c, w = cpu(naive, lines)
            cpu_s["naive"] += c
            wall_s["naive"] += w
            naive_floor_cpu += chunk_cpu["floor"]
        done += n
        del lines

    book = runs["hayate"].decoder.books["orderbook.200.BTCUSDT"].book  # type: ignore[attr-defined]
    state_book = runs["hayate+state"].state.book("BTCUSDT")  # type: ignore[attr-defined]
    assert book.bids == state_book.bids and book.asks == state_book.asks and book.valid
    assert not runs["hayate"].decoder.stats(), runs["hayate"].decoder.stats()  # type: ignore[attr-defined]
    assert apply_only.book.bids == book.bids and apply_only.book.asks == book.asks

    print(f"\ninput: {input_bytes / done:.0f} bytes/message; generating took {gen_s:.1f}s "
          "(not counted)\n")
    print(f"{'stage':<18}{'msgs/s (wall)':>15}{'µs/msg (cpu)':>14}{'vs floor (cpu)':>16}")
    floor_cpu = cpu_s["floor"]
    for name in (*runs, "apply only"):
        rate = done / wall_s[name]
        print(f"{name:<18}{rate:>15,.0f}{cpu_s[name] / done * 1e6:>14.2f}"
              f"{floor_cpu / cpu_s[name]:>16.3f}")
    if naive is not None and cpu_s["naive"]:
        m = min(done, args.naive_messages)
        print(f"{'naive':<18}{m / wall_s['naive']:>15,.0f}{cpu_s['naive'] / m * 1e6:>14.2f}"
              f"{naive_floor_cpu / cpu_s['naive']:>16.3f}   (first {m:,} messages)")
    print(f"\nhayate / floor per chunk (cpu): min {min(ratios):.3f}, median "
          f"{statistics.median(ratios):.3f}, max {max(ratios):.3f}")
    print(f"hayate vs naive: {cpu_s['naive'] / min(done, args.naive_messages) / (cpu_s['hayate'] / done):.1f}x faster"
          if cpu_s["naive"] else "")

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Steady-state memory of the pipeline itself, on a fresh decoder over one chunk.
    lines = list(StreamGenerator(args.seed).lines(min(args.chunk, 20_000)))
    fresh = make_hayate()
    tracemalloc.start()
    fresh(lines)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\npeak RSS of this process: {peak_rss:.0f} MB (holds one {args.chunk:,}-line "
          f"chunk of input at a time)")
    print(f"pipeline allocations at peak (tracemalloc, {len(lines):,} messages, parser caches "
          f"and book included): {traced_peak / 1e6:.2f} MB")
    print(f"OrderBook, 1000 levels a side: {book_memory(1000) / 1e3:.0f} kB; "
          f"200 a side: {book_memory(200) / 1e3:.0f} kB")

    if args.profile:
        prof = cProfile.Profile()
        fn = make_hayate()
        prof.runcall(fn, lines)
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
        print("\nprofile of hayate on one chunk (cProfile inflates Python-level calls):")
        print("\n".join(out.getvalue().splitlines()[4:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
