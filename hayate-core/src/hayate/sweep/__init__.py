"""Parameter sweeps: one bot spec over many parameter sets and datasets, each combination an
independent simulated run, locally in a process pool or on a Ray cluster.

See ``docs/sweeps.md``. The pieces: :mod:`.sweepfile` (the TOML file), :mod:`.space` (grid
and random axes), :mod:`.combinations` (ids, overrides), :mod:`.validation`,
:mod:`.worker` (one run), :mod:`.local` and :mod:`.ray_backend` (where runs happen),
:mod:`.store` (SQLite results), :mod:`.export` (CSV, Parquet), :mod:`.report` and
:mod:`.heatmap_svg` (ranking, heat maps), :mod:`.runner` (ties them together).
"""

from hayate.sweep.runner import SweepOutcome, SweepPlan, plan_sweep, run_sweep

__all__ = ["SweepOutcome", "SweepPlan", "plan_sweep", "run_sweep"]
