"""One bot per output directory: a lock on ``--out`` held for the whole run.

Two bots writing the same journal, fill log and pid file corrupt each other's results, and
``hayate kill`` would reach only one of them. ``hayate run`` therefore takes an exclusive
lock (``flock`` on ``DIR/.hayate.lock``, which holds the owner's pid) before it builds the
bot. The operating system releases the lock when its process dies however it dies, so a
lock left by a killed bot is simply taken over; the pid it names is reported.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

__all__ = ["LOCK_FILE", "OutDirBusy", "OutDirLock"]

LOCK_FILE = ".hayate.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the pid in the file is checked instead
    fcntl = None  # type: ignore[assignment]


class OutDirBusy(Exception):
    """Another live process holds the directory's lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"{path} is in use by another running bot ({who}); stop it "
                         f"(hayate kill {path}) or choose another --out")


def _read_pid(fh: IO[str]) -> int | None:
    fh.seek(0)
    text = fh.read().strip()
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutDirLock:
    """``acquire()`` before the run, ``release()`` after (or use it as a context manager).

    ``stale_pid`` is the pid of a dead process whose lock was taken over (None if none)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self._fh: IO[str] | None = None
        self.stale_pid: int | None = None

    def acquire(self) -> OutDirLock:
        self.directory.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        previous = _read_pid(fh)
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                raise OutDirBusy(self.directory, previous) from None
        elif previous and previous != os.getpid() and _alive(previous):
            fh.close()
            raise OutDirBusy(self.directory, previous)
        if previous and previous != os.getpid():
            self.stale_pid = previous  # its process died without releasing the directory
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        with contextlib.suppress(OSError):
            fh.seek(0)
            fh.truncate()  # an empty lock file: nobody's, nothing stale to report
            fh.flush()
        fh.close()  # closing releases the flock

    def __enter__(self) -> OutDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
