"""``hayate report RUN_DIR``: the HTML report of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["report"]


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run's --out directory.", show_default=False)],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file (default RUN_DIR/report.html).")
    ] = None,
    run: Annotated[
        int | None, typer.Option("--run", help="Journal run id (default: the last one).")
    ] = None,
) -> None:
    """Write a self-contained HTML report (charts and statistics) of a run."""
    from rich.markup import escape

    from hayate.cli.app import EXIT_CONFIG, err
    from hayate.cli.app import out as console
    from hayate.report import ReportError, write_report

    try:
        path = write_report(str(run_dir), str(out) if out else None, run)
    except ReportError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", markup=True)
        raise typer.Exit(EXIT_CONFIG) from None
    console.print(f"report written to {path}", markup=False)
