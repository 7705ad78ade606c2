"""Run tasks on this machine in a pool of worker processes.

Workers are never forked from the driver, which may have threads (a progress display):
where the platform has it they are forked from a *forkserver*, a clean process that has
imported the engine and loaded the plugins once (a worker then starts in milliseconds
instead of a second), else *spawned*. Workers ignore SIGINT so that Ctrl-C is the
driver's to handle: it stops handing out work, ends the workers and leaves the unfinished
combinations pending for the next run.

A worker that dies (killed for memory, a crash in native code) breaks the whole pool and
fails every task in it. Those tasks are run again in a new pool; a task caught in two
breaks is then run alone, so the combination that kills its worker is recorded as failed
and the others are not blamed for it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from hayate.sweep.worker import Task, TaskResult, run_task

__all__ = ["LocalPool", "default_workers"]

log = logging.getLogger("hayate.sweep.local")

BREAKS_BEFORE_ISOLATION = 2
WORKER_DIED = ("the worker process died while running this combination (killed for memory? "
               "a crash in native code?); see run.log in its directory")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


PRELOAD = "hayate.sweep.preload"


def _init_worker(sys_path: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forkserver keeps the sys.path it started with; research code added since must import.
    sys.path[:] = sys_path


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([PRELOAD])
        return ctx
    return multiprocessing.get_context("spawn")


class LocalPool:
    """``workers`` processes (default: every core this process may use)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def describe(self) -> str:
        return f"{self.workers} local worker{'s' if self.workers != 1 else ''}"

    def run(self, tasks: Sequence[Task]) -> Iterator[TaskResult]:
        queue: deque[Task] = deque(tasks)
        breaks: dict[str, int] = {}
        while queue:
            suspects = [t for t in queue if breaks.get(t.id, 0) >= BREAKS_BEFORE_ISOLATION]
            if suspects:
                task = suspects[0]
                queue.remove(task)
                result, broken = self._round([task], 1)
                yield from result
                if broken:
                    yield TaskResult(task.id, "failed", WORKER_DIED)
                continue
            batch = list(queue)
            queue.clear()
            broken_tasks: list[Task] = []
            yield from self._stream(batch, min(self.workers, len(batch)), broken_tasks)
            for t in broken_tasks:
                breaks[t.id] = breaks.get(t.id, 0) + 1
                queue.append(t)
            if broken_tasks:
                log.warning("a worker process died; running %d unfinished combinations again",
                            len(broken_tasks))

    def _round(self, tasks: list[Task], workers: int) -> tuple[list[TaskResult], list[Task]]:
        broken: list[Task] = []
        results = list(self._stream(tasks, workers, broken))
        return results, broken

    def _stream(self, tasks: list[Task], workers: int, broken: list[Task]) -> Iterator[TaskResult]:
        """Results as they complete; tasks lost to a broken pool are appended to ``broken``."""
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                   initargs=(list(sys.path),), mp_context=_context())
        futures: dict[Future[TaskResult], Task] = {}
        clean = False
        try:
            futures = {pool.submit(run_task, t): t for t in tasks}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    task = futures[f]
                    try:
                        yield f.result()
                    except BrokenProcessPool:
                        broken.append(task)
                    except Exception as e:  # e.g. a result that cannot be pickled back
                        yield TaskResult(task.id, "failed", f"{type(e).__name__}: {e}")
            clean = True
        finally:
            if clean:
                pool.shutdown(wait=True)
            else:  # interrupted or abandoned: do not wait for running combinations
                _terminate(pool)


def _terminate(pool: ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if callable(terminate):
        terminate()
        return
    # Before 3.14: the pool's own list of processes (shutdown() forgets it, so read it first).
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)
