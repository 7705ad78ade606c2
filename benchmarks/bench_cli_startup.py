"""CLI start-up: how long `hayate --help`, `hayate --version` and `hayate check` take.

Each command runs as a fresh process (what a user waits for), interleaved over ``--rounds``
rounds; the figures are medians of wall and CPU time (user + system of the child), beside
the same run's floor: a bare ``python -c pass`` in the same interpreter. ``--imports``
adds the heaviest modules of ``hayate --help`` from ``python -X importtime``.

    python benchmarks/bench_cli_startup.py
    python benchmarks/bench_cli_startup.py --rounds 20 --imports
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _hayate() -> list[str]:
    exe = shutil.which("hayate", path=str(Path(sys.executable).parent)) or shutil.which("hayate")
    if exe is None:
        sys.exit("the hayate command is not installed in this environment")
    return [exe]


def _commands() -> dict[str, list[str]]:
    hayate = _hayate()
    return {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "hayate --version": [*hayate, "--version"],
        "hayate --help": [*hayate, "--help"],
        "hayate check examples/paper.toml": [*hayate, "check", "examples/paper.toml"],
    }


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _imports(top: int) -> list[tuple[int, str]]:
    """The ``top`` modules with the largest cumulative import time in ``hayate --help``."""
    code = "import sys; sys.argv = ['hayate', '--help']; from hayate.cli.app import main; main()"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT,
                         capture_output=True, text=True).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cum_us, name = line.split(":", 1)[1].split("|")
        rows.append((int(cum_us), name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--imports", action="store_true", help="list the slowest imports")
    args = ap.parse_args()

    commands = _commands()
    for cmd in commands.values():  # warm the file cache and the bytecode
        _timed(cmd)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            samples[name].append(_timed(cmd))
    load_after = os.getloadavg()[0]

    floor_wall = statistics.median(w for w, _ in samples["python -c pass (floor)"])
    floor_cpu = statistics.median(c for _, c in samples["python -c pass (floor)"])
    print(f"{args.rounds} interleaved rounds, medians; load average {load_before:.1f} -> "
          f"{load_after:.1f} on {os.cpu_count()} CPUs\n")
    print(f"{'command':36} {'wall ms':>8} {'CPU ms':>8} {'CPU over floor':>15}")
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        over = "" if name.startswith("python") else f"{(cpu - floor_cpu) * 1000:+.0f} ms"
        print(f"{name:36} {wall * 1000:8.0f} {cpu * 1000:8.0f} {over:>15}")
    print(f"\n(the floor: {floor_wall * 1000:.0f} ms wall, {floor_cpu * 1000:.0f} ms CPU)")
    if args.imports:
        print("\nslowest imports of hayate --help (cumulative µs):")
        for cum, name in _imports(15):
            print(f"{cum:10d}  {name}")


if __name__ == "__main__":
    main()
