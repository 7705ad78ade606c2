"""Run tasks on a Ray cluster (``pip install "hayate-core[ray]"``).

Ray is imported only here and only when asked for. Each combination is one Ray task
needing one CPU; a bounded number are in flight (twice the cluster's CPUs), so a sweep of
a million combinations does not put a million task descriptions into the object store at
once. Workers need the same Hayate distributions and plugins as the driver (they import
:func:`hayate.sweep.worker.run_task` by name) and must be able to read the datasets.

``address`` is passed to ``ray.init``: ``"local"`` starts a Ray instance on this machine
for the sweep, ``"auto"`` joins the cluster this machine belongs to (``ray start``), and
``"ray://HOST:10001"`` or ``"HOST:6379"`` name a cluster. If Ray is already initialised
in this process (a notebook, a test), that instance is used as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from hayate.exceptions import ConfigError
from hayate.sweep.worker import Task, TaskResult, run_task

__all__ = ["RayCluster", "import_ray"]

log = logging.getLogger("hayate.sweep.ray")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError('--ray-address needs Ray: pip install "hayate-core[ray]" '
                          "(on the driver and on every worker of the cluster)") from None
    return ray


class RayCluster:
    def __init__(self, address: str) -> None:
        self.address = address
        self.ray = import_ray()

    def describe(self) -> str:
        return f"Ray ({self.address})"

    def run(self, tasks: Sequence[Task]) -> Iterator[TaskResult]:
        ray = self.ray
        started_here = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": self.address, "log_to_driver": False,
                                      "logging_level": logging.WARNING}
            if self.address == "local":
                kwargs["include_dashboard"] = False
            try:
                ray.init(**kwargs)
            except ConnectionError as e:
                raise ConfigError(f"cannot reach a Ray cluster at {self.address!r}: {e}") from None
            started_here = True
        remote = ray.remote(num_cpus=1, max_retries=1)(run_task)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        limit = max(2, 2 * cpus)
        log.info("Ray cluster: %d CPUs; at most %d combinations in flight", cpus, limit)
        queue = list(reversed(tasks))
        in_flight: dict[Any, Task] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    task = queue.pop()
                    in_flight[remote.remote(task)] = task
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    task = in_flight.pop(ref)
                    try:
                        yield ray.get(ref)
                    except ray.exceptions.RayError as e:  # a worker or node died, twice
                        yield TaskResult(task.id, "failed", f"Ray: {type(e).__name__}: {e}")
        finally:
            for ref in in_flight:  # interrupted: stop what is still running
                try:
                    ray.cancel(ref, force=True)
                except Exception as e:  # already finished or gone: nothing to stop
                    log.debug("could not cancel a Ray task: %s", e)
            if started_here:
                ray.shutdown()
