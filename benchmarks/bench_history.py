"""The "Backtesting on real data" session, timed, against a local mirror of Bybit's archives.

    python benchmarks/bench_history.py [--messages 1000000] [--jobs 4] [--keep DIR]

One day of linear BTCUSDT in Bybit's archive formats is built from the deterministic
stream of ``gen_bybit_stream.py`` (the ``orderbook.200`` messages zipped as
``2025-01-01_BTCUSDT_ob200.data.zip``, the ``publicTrade`` prints as
``BTCUSDT2025-01-01.csv.gz`` in the derivatives CSV format) and served by
:class:`hayate_bybit.testing.ArchiveServer` on 127.0.0.1. Then, each step a real
``hayate`` process, as a user types them:

1. ``hayate data download bybit`` (listings, parallel fetch, integrity check, catalog,
   rules snapshot);
2. the same download again, the connection cut half-way through the order book
   (``--cut``: resumed with an HTTP range);
3. ``hayate data list`` and ``hayate data verify``;
4. ``hayate run examples/backtest.toml`` on that day (``mm.simple`` through the paper
   exchange);
5. ``hayate report``.

It prints the wall time of each step and the figures behind it. Nothing touches the
internet.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

DAY = "2025-01-01"


def build_day(messages: int) -> dict[str, bytes]:
    from gen_bybit_stream import generate

    from hayate_bybit.testing.archive_samples import book_zip

    book: list[str] = []
    trades = ["timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,"
              "homeNotional,foreignNotional"]
    for line in generate(messages):
        msg = json.loads(line)
        if msg["topic"].startswith("orderbook."):
            book.append(line)
            continue
        for t in msg["data"]:
            ms = int(t["T"])
            trades.append(f"{ms // 1000}.{ms % 1000:03d}0,{t['s']},{t['S']},{t['v']},{t['p']},"
                          f"{t['L']},{t['i']},0,{t['v']},0")
    return {
        f"orderbook/linear/BTCUSDT/{DAY}_BTCUSDT_ob200.data.zip": book_zip(
            f"{DAY}_BTCUSDT_ob200.data", book),
        f"trading/BTCUSDT/BTCUSDT{DAY}.csv.gz": gzip.compress(
            ("\n".join(trades) + "\n").encode(), compresslevel=6, mtime=0),
    }


def hayate(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                       text=True, env=env)
    seconds = time.perf_counter() - started
    if r.returncode != 0:
        sys.exit(f"hayate {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return seconds, r


def main(argv: list[str] | None = None) -> int:
    from hayate_bybit.testing import ArchiveServer, instrument_item

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="Keep the data and the run here.")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    files = build_day(args.messages)
    built = time.perf_counter() - started
    sizes = {Path(k).name: len(v) for k, v in files.items()}
    print(f"built {args.messages:,} messages in {built:.1f}s: "
          + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))

    work = args.keep or Path(tempfile.mkdtemp(prefix="hayate-bench-history-"))
    env = {**os.environ, "HAYATE_DATA_DIR": str(work / "data")}
    rows: list[tuple[str, float, str]] = []
    book = next(k for k in files if k.endswith(".zip"))
    items = {"linear": [instrument_item("linear", "BTCUSDT", "0.10", "0.001")]}
    with ArchiveServer(files, instruments=items) as server:
        get = ["data", "download", "bybit", "--symbols", "BTCUSDT", "--from", DAY,
               "--base-url", server.base_url, "--jobs", str(args.jobs)]
        seconds, r = hayate(env, *get)
        total = sum(sizes.values())
        rows.append(("download (book + trades)", seconds,
                     f"{total / 1e6:.1f} MB, {total / 1e6 / seconds:.1f} MB/s"))
        # again, from scratch, the book cut half-way: resumed with a range request
        hayate(env, "data", "rm", "bybit/linear/BTCUSDT")
        server.cut_after(book, len(files[book]) // 2)
        seconds, r = hayate(env, *get)
        ranges = [g.range_start for g in server.gets(book)][-2:]
        rows.append(("download, cut half-way", seconds, f"book GETs from bytes {ranges}"))
    seconds, r = hayate(env, "data", "list")
    rows.append(("list", seconds, ""))
    seconds, r = hayate(env, "data", "verify")
    rows.append(("verify", seconds, r.stdout.strip()))
    out = work / "run"
    seconds, r = hayate(env, "run", str(ROOT / "examples/backtest.toml"), "--out", str(out),
                        "--set", f"collectors.market.from={DAY}",
                        "--set", f"collectors.market.to={DAY}", "-q")
    summary = json.loads((out / "summary.json").read_text())
    rows.append(("run (replay + mm.simple + paper)", seconds,
                 f"{summary['events']:,} events, {summary['orders']} orders, "
                 f"{summary['fills']} fills, {summary['sim_seconds'] / 3600:.1f} h simulated"))
    seconds, r = hayate(env, "report", str(out))
    rows.append(("report", seconds, f"{(out / 'report.html').stat().st_size / 1e6:.1f} MB"))

    width = max(len(r[0]) for r in rows)
    for step, secs, note in rows:
        print(f"{step:<{width}}  {secs:6.1f}s  {note}")
    if args.keep is None:
        print(f"(work files in {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
