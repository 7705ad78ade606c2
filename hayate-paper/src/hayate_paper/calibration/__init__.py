"""Calibration: the paper exchange's settings fitted to what a live venue did.

A shadow run (docs/shadow.md) records the live venue's latencies and order outcomes in its
journal and the twin's inputs on its tape; :func:`calibrate` fits the latency
distributions (:mod:`.latency_fit`) and the queue model (a grid search over replays of the
tape, :mod:`.replay`) and writes a ``[executors.<twin>]`` fragment (``hayate calibrate``).
"""

from hayate_paper.calibration.calibrate import (
    PARTIAL_FILLS,
    QUEUE_GRID,
    Calibration,
    CalibrationError,
    Candidate,
    Score,
    calibrate,
    write_outputs,
)
from hayate_paper.calibration.latency_fit import LatencyFit, fit_latency, ks_distance
from hayate_paper.calibration.replay import Tape, load_tape, replay

__all__ = [
    "PARTIAL_FILLS",
    "QUEUE_GRID",
    "Calibration",
    "CalibrationError",
    "Candidate",
    "LatencyFit",
    "Score",
    "Tape",
    "calibrate",
    "fit_latency",
    "ks_distance",
    "load_tape",
    "replay",
    "write_outputs",
]
