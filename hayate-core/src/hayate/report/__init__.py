"""``hayate report``: one self-contained HTML page about a run (charts and statistics)."""

from hayate.report.data import ReportError, RunData, load_run
from hayate.report.page import render_report, report_stats

__all__ = ["ReportError", "RunData", "load_run", "render_report", "report_stats", "write_report"]


def write_report(run_dir: str, out: str | None = None, run_id: int | None = None) -> str:
    """Write the report of ``run_dir`` (default ``RUN_DIR/report.html``); return its path."""
    from pathlib import Path

    data = load_run(Path(run_dir), run_id)
    path = Path(out) if out else Path(run_dir) / "report.html"
    path.write_text(render_report(data), encoding="utf-8")
    return str(path)
