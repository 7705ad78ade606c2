"""Full pipeline throughput: replay -> book -> strategy -> paper matching, against a baseline.

    python benchmarks/bench_pipeline.py [--messages 1000000] [--source bybit|sim]

Each configuration runs in its own process (so peak memory is its own) over the same
stream, and the script prints events per second, stream messages per second, peak RSS and
the ratio of the full pipeline to the baseline measured in the same run:

- ``baseline``: the engine alone over the source, a no-op strategy and a recording
  executor (no matching, no account);
- ``paper + no-op``: the source wrapped by ``paper.exchange`` (book at venue time, queue
  model, latency, account) with a strategy that never trades: the venue's own cost;
- ``paper + mm.simple``: the same with the ``mm.simple`` market maker quoting two levels
  a side (the target configuration);
- ``paper (1/4)``: the same over a quarter of the stream, to show that memory does not
  grow with the length of the replay.

With the ``bybit`` source, the msgspec decode floor of the same file (as in
``bench_market_data.py``: decoding every line into typed structs, nothing else) is measured
in a process of its own before and after the configurations, and each configuration's CPU time is
also given as a ratio to it (floor CPU / configuration CPU), with the machine's load.

Sources: ``bybit`` (default when hayate-bybit is installed) writes the deterministic
Bybit-format stream of ``benchmarks/gen_bybit_stream.py`` (orderbook.200 + publicTrade,
BTCUSDT linear) to a file (cached between runs, see ``_cache_dir``) and replays it with
``bybit.replay``, so decoding the JSON is part of the pipeline; ``sim`` uses the built-in ``sim.market`` generator instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# A market maker as one would run it on Bybit: two levels a side, requoting when the mid
# moved 0.5 bps and at most once a second per quote (well inside Bybit's order rate limits).
MM = {
    "type": "mm.simple",
    "inputs": ["market"],
    "symbol": "BTCUSDT",
    "spread_bps": 5,
    "order_qty": "0.01",
    "levels": 2,
    "level_spacing_bps": 1,
    "requote_threshold_bps": 0.5,
    "min_quote_lifetime": "1s",
    "max_position": "0.2",
}
NOOP = {"type": "testing.quoter", "inputs": ["market"], "mode": "noop"}


def _source(kind: str, path: str | None, messages: int) -> dict[str, Any]:
    if kind == "bybit":
        return {"type": "bybit.replay", "path": path, "category": "linear", "infer_rules": False,
                "instruments": {"BTCUSDT": {"tick_size": "0.1", "qty_step": "0.001",
                                            "min_qty": "0.001", "min_notional": "5"}}}
    # sim.market makes about 125 events a simulated second at its default settings.
    return {"type": "sim.market", "symbol": "BTCUSDT", "duration": messages / 125.0}


def _spec(config: str, kind: str, path: str | None, messages: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": f"bench-{config}", "engine": {"seed": 1},
                            "collectors": {"market": _source(kind, path, messages)}}
    if config == "baseline":
        spec["strategies"] = {"bot": NOOP}
        spec["executors"] = {"venue": {"type": "testing.recorder"}}
    else:
        spec["strategies"] = {"bot": MM if config == "paper" else NOOP}
        spec["executors"] = {"venue": {"type": "paper.exchange", "source": "market",
                                       "balances": {"USDT": "1000000"}}}
    return spec


def child(config: str, kind: str, path: str | None, messages: int) -> None:
    """Run one configuration and print its figures as JSON (called in a subprocess)."""
    from hayate_testing import make_plugins, run_spec_dict

    extra = ["hayate_paper.plugin", "hayate_strategies.plugin"]
    if kind == "bybit":
        extra.append("hayate_bybit.plugin")
    pm = make_plugins(extra=extra)
    t0 = time.perf_counter()
    c0 = time.process_time()
    result, _ = run_spec_dict(_spec(config, kind, path, messages), pm)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    assert result.exit_code == 0, result.exit_reason
    s = result.summary
    market = s.get("replay_events") or s.get("sim_market_events") or 0
    print(json.dumps({
        "events": s["events"], "market_events": market, "wall": wall, "cpu": cpu,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "fills": s.get("fills"), "orders": s.get("orders"), "actions": s.get("actions"),
    }))


def _run(config: str, kind: str, path: str | None, messages: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", config, "--source", kind,
         "--messages", str(messages), *(["--path", path] if path else [])],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _floor(path: str) -> float:
    """The floor's CPU seconds over ``path``, in a child process: the file it reads would
    otherwise raise this process's peak RSS, which the configurations' children inherit
    (Linux keeps ``ru_maxrss`` across fork and exec)."""
    out = subprocess.run([sys.executable, "-c",
                          "import sys; sys.path.insert(0, sys.argv[1]); "
                          "from bench_market_data import floor_cpu; print(floor_cpu(sys.argv[2]))",
                          str(HERE), path], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def _cache_dir() -> Path:
    """Where generated streams are kept between runs (``HAYATE_BENCH_CACHE`` or
    ``~/.cache/hayate-bench``): generating a million messages takes about a minute."""
    root = os.environ.get("HAYATE_BENCH_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "hayate-bench")
    return Path(root)


def _write_stream(messages: int) -> str:
    """The generator's stream as a file, reused while the generator is unchanged."""
    sys.path.insert(0, str(HERE))
    from gen_bybit_stream import generate  # type: ignore[import-not-found]

    digest = hashlib.sha256((HERE / "gen_bybit_stream.py").read_bytes()).hexdigest()[:12]
    directory = _cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bybit-{messages}-{digest}.jsonl"
    if path.is_file():
        return str(path)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        for line in generate(messages):
            fh.write(line)
            fh.write("\n")
    os.replace(tmp, path)  # whole or absent: an interrupted run leaves no half stream
    return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--source", choices=("bybit", "sim"), default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--path", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    kind = args.source
    if kind is None:
        try:
            import hayate_bybit  # noqa: F401

            kind = "bybit" if (HERE / "gen_bybit_stream.py").exists() else "sim"
        except ImportError:
            kind = "sim"
    if args.child:
        child(args.child, kind, args.path, args.messages)
        return
    paths = {}
    if kind == "bybit":
        t0 = time.perf_counter()
        paths[args.messages] = _write_stream(args.messages)
        paths[args.messages // 4] = _write_stream(args.messages // 4)
        print(f"streams ready in {time.perf_counter() - t0:.1f}s (cached in {_cache_dir()})")
    load0 = os.getloadavg()
    floors = []
    if kind == "bybit":
        floors.append(_floor(paths[args.messages]))
    rows = []
    for label, config, n in (("baseline", "baseline", args.messages),
                             ("paper + no-op strategy", "paper-noop", args.messages),
                             ("paper + mm.simple", "paper", args.messages),
                             ("paper + mm.simple (1/4)", "paper", args.messages // 4)):
        r = _run(config, kind, paths.get(n), n)
        rows.append((label, n, r))
    if floors:
        floors.append(_floor(paths[args.messages]))
    load1 = os.getloadavg()
    print(f"source: {kind}, {args.messages:,} stream messages")
    print(f"{'configuration':26s} {'messages':>10s} {'events':>10s} {'wall s':>8s} "
          f"{'events/s':>10s} {'msgs/s':>10s} {'cpu s':>7s} {'ev/s cpu':>10s} {'peak MB':>8s}"
          "  orders  fills" + ("  vs floor" if floors else ""))
    floor = sum(floors) / len(floors) if floors else 0.0
    for label, n, r in rows:
        vs_floor = f"  {floor * n / args.messages / r['cpu']:8.4f}" if floors else ""
        print(f"{label:26s} {n:10,d} {r['events']:10,d} {r['wall']:8.2f} "
              f"{r['events'] / r['wall']:10,.0f} {n / r['wall']:10,.0f} {r['cpu']:7.2f} "
              f"{r['events'] / r['cpu']:10,.0f} {r['maxrss_mb']:8.0f}"
              f"  {r['orders'] if r['orders'] is not None else '-':>6}"
              f"  {r['fills'] if r['fills'] is not None else '-':>5}{vs_floor}")
    base, full = rows[0][2], rows[2][2]
    ratio = (full["events"] / full["wall"]) / (base["events"] / base["wall"])
    per_msg = (full["cpu"] - base["cpu"]) / args.messages * 1e6
    print(f"paper pipeline / baseline: {ratio:.2f} of the baseline's events/s; "
          f"{per_msg:.2f} us (cpu) per stream message for matching, account and the strategy")
    noop = rows[1][2]
    print(f"the paper exchange alone (no-op strategy): "
          f"{(noop['cpu'] - base['cpu']) / args.messages * 1e6:.2f} us (cpu) per stream message")
    print("events/s count every event the bot handled (market data and its own order "
          "events); cpu columns are this process's CPU time, steadier than wall time on a "
          "shared machine")
    if floors:
        print(f"msgspec floor of the same file: {floors[0]:.2f} s cpu before, {floors[1]:.2f} s "
              f"after ({args.messages / floor:,.0f} msg/s); vs floor = floor cpu / run cpu "
              "(set-up and teardown included)")
    print(f"load average (1, 5, 15 min): before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"peak memory, full vs quarter stream: {full['maxrss_mb']:.0f} MB vs "
          f"{rows[3][2]['maxrss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
