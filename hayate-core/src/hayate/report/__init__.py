"""``hayate report``: one self-contained HTML page about a run (charts and statistics), and
for a shadow run a second one, "paper vs live" (:mod:`hayate.report.shadow_page`)."""

from __future__ import annotations

from pathlib import Path

from hayate.report.data import ReportError, RunData, load_run
from hayate.report.page import render_report, report_stats

__all__ = ["ReportError", "RunData", "load_run", "render_report", "report_stats", "write_report",
           "write_shadow_page"]


def write_report(run_dir: str, out: str | None = None, run_id: int | None = None) -> str:
    """Write the report of ``run_dir`` (default ``RUN_DIR/report.html``); return its path.
    A shadow run also gets its "paper vs live" page beside it, linked from the report."""
    data = load_run(Path(run_dir), run_id)
    path = Path(out) if out else Path(run_dir) / "report.html"
    html = render_report(data)
    shadow = write_shadow_page(data, path.parent)
    if shadow is not None:
        link = (f'<p><a href="{shadow.name}">Paper vs live</a>: where the shadow twin and the '
                "live venue part.</p>")
        html = html.replace("<h2>Statistics</h2>", link + "<h2>Statistics</h2>", 1)
    path.write_text(html, encoding="utf-8")
    return str(path)


def write_shadow_page(data: RunData, out_dir: Path | str) -> Path | None:
    """``paper-vs-live.html`` in ``out_dir`` when the run had shadow twins; its path or None."""
    from hayate.report.shadow_data import load_shadow
    from hayate.report.shadow_page import SHADOW_PAGE, render_shadow_page

    journal = data.run_dir / "journal.sqlite"
    jpath = data.summary.get("journal", {}).get("path")
    if not journal.exists() and jpath and Path(jpath).exists():
        journal = Path(jpath)
    shadow = load_shadow(data.run_dir, journal, data.summary, data.run_id)
    if shadow is None:
        return None
    page = Path(out_dir) / SHADOW_PAGE
    page.write_text(render_shadow_page(shadow, str(data.summary.get("name", ""))),
                    encoding="utf-8")
    return page
