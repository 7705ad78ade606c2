"""Calibration: the paper exchange's settings fitted to what a live venue did.

A shadow run (docs/shadow.md) records the live venue's latencies and order outcomes in its
journal and the twin's inputs on its tape; :func:`calibrate` fits the latency
distributions (:mod:`.latency_fit`) and the queue model (a grid search over replays of the
tape, :mod:`.tape_replay`) and writes a ``[executors.<twin>]`` fragment (``hayate calibrate``).
"""

from typing import Any

_NAMES = {
    "PARTIAL_FILLS": "fit_run", "QUEUE_GRID": "fit_run", "Calibration": "fit_run",
    "CalibrationError": "fit_run", "Candidate": "fit_run", "Score": "fit_run",
    "calibrate": "fit_run", "write_outputs": "fit_run",
    "LatencyFit": "latency_fit", "fit_latency": "latency_fit", "ks_distance": "latency_fit",
    "Tape": "tape_replay", "load_tape": "tape_replay", "replay": "tape_replay",
}
"""Each name and its module, imported on first use (``hayate --help`` registers the
command without loading the paper exchange)."""

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'hayate_paper.calibration' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"hayate_paper.calibration.{module}"), name)
