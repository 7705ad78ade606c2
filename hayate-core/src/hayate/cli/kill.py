"""``hayate kill [RUN_DIR]``: the kill switch for a running bot.

Sends SIGUSR1 to the bot whose pid file is in RUN_DIR (or the only bot running under
``runs/``); the bot cancels every order on every executor and stops. ``--flatten`` sends
SIGUSR2: the bot also closes every position with reduce-only market orders before it
stops. Waits until it has finished (its pid file is gone) or the timeout passes.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from hayate.risk.kill import PID_FILE, find_running, process_alive, read_pid_file

__all__ = ["kill"]


def kill(
    run_dir: Annotated[
        Path | None,
        typer.Argument(help="The bot's output directory (default: the only bot running under "
                            "./runs).", show_default=False),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the bot to stop.")
    ] = 15.0,
    flatten: Annotated[
        bool, typer.Option("--flatten", help="Also close every position (reduce-only market "
                                             "orders) before stopping.")
    ] = False,
) -> None:
    """Kill switch: cancel every order of a running bot and stop it (SIGUSR1); with
    --flatten also close its positions (SIGUSR2)."""
    from hayate.cli.app import EXIT_CONFIG, EXIT_FAILURE, err, out

    if not hasattr(signal, "SIGUSR1"):
        err.print("error: the kill switch needs SIGUSR1, which this platform lacks")
        raise typer.Exit(EXIT_CONFIG)
    if run_dir is None:
        running = find_running(Path("runs"))
        if not running:
            err.print("error: no running bot found under runs/; give its RUN_DIR")
            raise typer.Exit(EXIT_CONFIG)
        if len(running) > 1:
            err.print("error: several bots are running; give one RUN_DIR:")
            for p in running:
                err.print(f"  {p.parent}")
            raise typer.Exit(EXIT_CONFIG)
        pid_file = running[0]
    else:
        pid_file = run_dir if run_dir.name == PID_FILE else run_dir / PID_FILE
    info = read_pid_file(pid_file)
    if info is None:
        err.print(f"error: no bot is running in {pid_file.parent} (no readable {PID_FILE})")
        raise typer.Exit(EXIT_CONFIG)
    pid = info["pid"]
    name = info.get("name", "bot")
    if not process_alive(pid):
        err.print(f"{name} (pid {pid}) is not running; removing its stale {PID_FILE}")
        pid_file.unlink(missing_ok=True)
        raise typer.Exit(EXIT_FAILURE)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGUSR2 if flatten else signal.SIGUSR1)
    err.print(f"kill switch{' (flatten)' if flatten else ''} sent to {name} (pid {pid}); "
              "waiting for it to stop")
    while time.monotonic() - t0 < timeout:
        if not pid_file.exists() or not process_alive(pid):
            out.print(f"{name} (pid {pid}) stopped after {time.monotonic() - t0:.2f}s")
            return
        time.sleep(0.02)
    err.print(f"error: {name} (pid {pid}) did not stop within {timeout:g}s")
    raise typer.Exit(EXIT_FAILURE)
