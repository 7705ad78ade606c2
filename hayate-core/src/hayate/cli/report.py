"""``hayate report RUN_DIR``: the HTML report of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["report"]


def latest_run(base: Path) -> Path | None:
    """The run directory under ``base`` whose summary.json was written last."""
    found = [p.parent for p in base.glob("*/summary.json")]
    return max(found, key=lambda d: (d / "summary.json").stat().st_mtime, default=None)


def report(
    run_dir: Annotated[
        Path | None,
        typer.Argument(help="A run's --out directory (default: the latest run under ./runs).",
                       show_default=False),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file (default RUN_DIR/report.html).")
    ] = None,
    run: Annotated[
        int | None, typer.Option("--run", help="Journal run id (default: the last one); an "
                                 "unknown one is an error (exit 2).")
    ] = None,
) -> None:
    """Write a self-contained HTML report (charts and statistics) of a run."""
    from rich.markup import escape

    from hayate.cli.app import EXIT_CONFIG, err
    from hayate.cli.app import out as console
    from hayate.report import ReportError, write_report

    if run_dir is None:
        run_dir = latest_run(Path("runs"))
        if run_dir is None:
            err.print("[bold red]error:[/] no run under ./runs; give a run's --out directory",
                      markup=True)
            raise typer.Exit(EXIT_CONFIG)
    from hayate.report.shadow_page import SHADOW_PAGE

    shadow = (out.parent if out else run_dir) / SHADOW_PAGE
    before = shadow.stat().st_mtime_ns if shadow.exists() else None
    try:
        path = write_report(str(run_dir), str(out) if out else None, run)
    except ReportError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", markup=True)
        raise typer.Exit(EXIT_CONFIG) from None
    console.print(f"report written to {path}", markup=False)
    if shadow.exists() and shadow.stat().st_mtime_ns != before:
        console.print(f"paper vs live written to {shadow}", markup=False)
