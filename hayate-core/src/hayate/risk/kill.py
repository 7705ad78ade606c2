"""The kill switch: ``hayate kill RUN_DIR`` or ``SIGUSR1`` cancels every order and stops;
``hayate kill --flatten RUN_DIR`` (``SIGUSR2``) also closes every position first.

A running bot with an output directory writes ``RUN_DIR/hayate.pid`` once it listens for
``SIGUSR1``, and removes it when it has finished (summary written). On the signal the
engine halts its risk engine (no new orders), sends ``CancelAll`` to every executor and
stops with the exit reason ``kill switch``; teardown then runs as after any stop. With
``SIGUSR2`` it then sends each executor reduce-only market orders that close its positions
and waits (live runs, at most half the teardown timeout) for them to fill before stopping;
``summary.json`` lists them under ``flattened``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from pathlib import Path
from typing import Any

import anyio

__all__ = ["PID_FILE", "KillSwitch", "find_running", "process_alive", "read_pid_file"]

log = logging.getLogger("hayate.risk")

PID_FILE = "hayate.pid"
KILL_REASON = "kill switch"
_SIGNAL = getattr(signal, "SIGUSR1", None)  # absent on Windows
FLATTEN_SIGNAL = getattr(signal, "SIGUSR2", None)


class KillSwitch:
    """Listens for SIGUSR1 during one run and owns the run's pid file."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.pid_file: Path | None = None
        self._previous: Any = None
        self._previous2: Any = None

    async def watch(self) -> None:
        """Runs in the bot's task group until the signal comes (or the bot ends)."""
        if _SIGNAL is None:
            return
        self._previous = signal.getsignal(_SIGNAL)
        self._previous2 = signal.getsignal(FLATTEN_SIGNAL) if FLATTEN_SIGNAL else None
        wanted = [s for s in (_SIGNAL, FLATTEN_SIGNAL) if s is not None]
        try:
            with anyio.open_signal_receiver(*wanted) as signals:
                self._write_pid_file()
                async for signum in signals:
                    flatten = signum == FLATTEN_SIGNAL
                    log.warning("kill switch (%s): cancelling every order%s and stopping",
                                signal.Signals(signum).name,
                                ", closing every position" if flatten else "")
                    await self.runtime.kill(KILL_REASON, flatten=flatten)
                    break
        finally:
            # Until the run is over, a second signal must not kill the process outright.
            for s in wanted:
                signal.signal(s, signal.SIG_IGN)

    def _write_pid_file(self) -> None:
        out = getattr(self.runtime, "out_dir", None)
        if out is None:
            return
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / PID_FILE
        info = {"pid": os.getpid(), "name": self.runtime.spec.name, "spec": self.runtime.spec.path}
        path.write_text(json.dumps(info) + "\n", encoding="utf-8")
        self.pid_file = path

    def release(self) -> None:
        """The run is over: remove the pid file, give SIGUSR1 back its old handler."""
        if self.pid_file is not None:
            info = read_pid_file(self.pid_file)
            if info is not None and info.get("pid") == os.getpid():
                with contextlib.suppress(FileNotFoundError):
                    self.pid_file.unlink()
            self.pid_file = None
        if _SIGNAL is not None and self._previous is not None:
            signal.signal(_SIGNAL, self._previous)
            self._previous = None
        if FLATTEN_SIGNAL is not None and self._previous2 is not None:
            signal.signal(FLATTEN_SIGNAL, self._previous2)
            self._previous2 = None


def read_pid_file(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def find_running(base: Path) -> list[Path]:
    """Pid files under ``base/*/`` whose process is alive."""
    found = []
    for path in sorted(base.glob(f"*/{PID_FILE}")):
        info = read_pid_file(path)
        if info is not None and process_alive(info["pid"]):
            found.append(path)
    return found
