"""``hayate calibrate RUN_DIR``: fit the twin's settings to a shadow run's live venue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register_calibrate_command"]


def register_calibrate_command(app: Any) -> None:
    @app.command("calibrate")
    def calibrate_cmd(
        run_dir: Annotated[Path, typer.Argument(help="The --out directory of a shadow run.",
                                                show_default=False)],
        twin: Annotated[str | None, typer.Option(
            "--twin", help="The twin to fit (default: the run's only twin).")] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="The fragment (default RUN_DIR/calibration.toml; the figures "
            "go beside it as .json).")] = None,
        seeds: Annotated[int, typer.Option(
            "--seeds", min=1, max=50, help="Replays per queue-model candidate.")] = 3,
        run: Annotated[int | None, typer.Option(
            "--run", help="Journal run id (default: the last one).")] = None,
    ) -> None:
        """Fit the paper exchange's latencies and queue model to what the live venue did in a
        shadow run, and write an [executors.<twin>] fragment with the goodness of fit."""
        from hayate.cli.app import EXIT_CONFIG, err
        from hayate.cli.app import out as console
        from hayate_paper.calibration.fit_run import CalibrationError, calibrate, write_outputs

        try:
            cal = calibrate(run_dir, twin, seeds=seeds, run_id=run)
        except CalibrationError as e:
            err.print(f"error: {e}", markup=False)
            raise typer.Exit(EXIT_CONFIG) from None
        toml_path, json_path = write_outputs(cal, out)
        console.print(cal.fragment(), markup=False, highlight=False)
        console.print(f"written to {toml_path} (figures: {json_path})", markup=False)
