"""The order path: a join-the-touch market maker through the paper exchange, against the floor.

    python benchmarks/bench_join_touch.py [--messages 100000] [--rounds 3] [--out] [--profile]

The workload where a backtest spends its time on orders rather than on market data:
``mm.join_touch`` (hayate-strategies) keeps one lot at the best bid and one at the best
ask and cancels and replaces them on every move of the touch (position capped), about
one order every two messages. It runs through ``paper.exchange`` (queue model, latency,
account) over the deterministic Bybit-format stream of ``gen_bybit_stream.py`` replayed
by ``bybit.replay`` (the file is cached between runs, as for ``bench_pipeline.py``), so
decoding the JSON is part of the run. The run keeps no files unless ``--out`` is given:
then it writes what ``hayate run --out`` writes (journal, fills, equity) to a temporary
directory, and the journal's writer thread is part of the CPU time.

Each round, on the same file, one after the other in this process:

- **floor**: msgspec decoding every line of the file into typed structs, nothing else
  (as in ``bench_market_data.py``);
- **run**: the whole bot, set-up and teardown included.

Printed: the median over the rounds of messages per second (wall), the run's CPU time per
message, the orders it placed (orders per message), the CPU time per order (the run's CPU
time less the floor's, over the orders placed: everything that is not decoding, the
book's and the strategy's per-message work included), and the ratio of the floor's CPU
time to the run's, measured in the same round. The machine's load average before and
after says how much else was running.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_market_data import floor_cpu as floor  # noqa: E402
from bench_pipeline import _cache_dir, _write_stream  # noqa: E402

SYMBOL = "BTCUSDT"
STRATEGY: dict[str, Any] = {
    "type": "mm.join_touch",
    "inputs": ["market"],
    "symbol": SYMBOL,
    "order_qty": "0.001",  # one lot
    "max_position": "0.001",
}


def spec(path: str) -> dict[str, Any]:
    return {
        "name": "bench-join-touch",
        "engine": {"seed": 1},
        "collectors": {"market": {
            "type": "bybit.replay", "path": path, "category": "linear", "infer_rules": False,
            "instruments": {SYMBOL: {"tick_size": "0.1", "qty_step": "0.001",
                                     "min_qty": "0.001", "min_notional": "5"}}}},
        "strategies": {"mm": STRATEGY},
        "executors": {"venue": {"type": "paper.exchange", "source": "market",
                                "balances": {"USDT": "1000000"}}},
    }


def run(path: str, plugins: Any, out: bool) -> dict[str, Any]:
    from hayate_testing import run_spec_dict

    with tempfile.TemporaryDirectory(prefix="hayate-bench-jt-") as tmp:
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        result, _ = run_spec_dict(spec(path), plugins, out_dir=Path(tmp) if out else None)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert result.exit_code == 0, result.exit_reason
    s = result.summary
    return {"wall": wall, "cpu": cpu, "events_in": s["replay_events"],
            "orders": s["orders_placed"], "cancels": s["orders_cancelled"],
            "fills": s.get("fills"), "events": s["events"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported")
    ap.add_argument("--out", action="store_true",
                    help="write the journal, fills and equity (to a temporary directory)")
    ap.add_argument("--profile", action="store_true",
                    help="then cProfile one run and print where the time goes")
    args = ap.parse_args(argv)

    from hayate_testing import make_plugins

    t0 = time.perf_counter()
    path = _write_stream(args.messages)
    print(f"stream: {args.messages:,} Bybit messages (BTCUSDT linear, orderbook.200 + "
          f"publicTrade), ready in {time.perf_counter() - t0:.1f}s (cached in {_cache_dir()})")
    from hayate.book import accel

    print(f"book path: {accel.describe()}; outputs: {'journal, fills, equity' if args.out else 'none'}")
    plugins = make_plugins(extra=["hayate_paper.plugin", "hayate_strategies.plugin",
                                  "hayate_bybit.plugin"])
    load0 = os.getloadavg()
    rows = []
    for i in range(args.rounds):
        f = floor(path)
        r = run(path, plugins, args.out)
        r["floor"] = f
        r["messages"] = args.messages  # stream lines (a trade line may carry several prints)
        rows.append(r)
        print(f"round {i + 1}: {r['messages'] / r['wall']:,.0f} msg/s, {r['orders']:,} orders, "
              f"floor {f:.2f}s cpu, run {r['cpu']:.2f}s cpu, ratio {f / r['cpu']:.4f}")
    load1 = os.getloadavg()

    def med(key: Any) -> float:
        return statistics.median(key(r) for r in rows)

    r0 = rows[0]
    n = r0["messages"]
    orders = r0["orders"]
    print(f"\nmessages {n:,} ({r0['events_in']:,} market events); orders placed {orders:,} "
          f"({orders / n:.3f} per message), cancels {r0['cancels']:,}, fills {r0['fills']}, "
          f"events handled {r0['events']:,}")
    print(f"{'median of':<10}{args.rounds} rounds")
    print(f"  msg/s (wall)          {med(lambda r: r['messages'] / r['wall']):>12,.0f}")
    print(f"  µs/msg (cpu)          {med(lambda r: r['cpu'] / r['messages'] * 1e6):>12.2f}")
    print(f"  floor msg/s (cpu)     {med(lambda r: r['messages'] / r['floor']):>12,.0f}")
    print(f"  µs/order (cpu - floor){med(lambda r: (r['cpu'] - r['floor']) / r['orders'] * 1e6):>12.1f}")
    print(f"  ratio to floor (cpu)  {med(lambda r: r['floor'] / r['cpu']):>12.4f}")
    print(f"load average (1, 5, 15 min): before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} CPUs")
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(run, path, plugins, args.out)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(30)
        print("\nprofile of one run (cProfile inflates Python-level calls):")
        print("\n".join(buf.getvalue().splitlines()[4:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
