"""``hayate report`` end to end: a real paper run, its report, rendered by headless Chromium.

The page carries a tiny script that measures every chart's drawn paths in the browser and
writes the count into ``<body data-charts-drawn>``; the test reads the DOM Chromium dumps
after running it. Needs Debian's ``chromium`` package (``apt-get install -y chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = "headless Chromium is needed for this test: apt-get install -y chromium"
    if os.environ.get("HAYATE_REQUIRE_BROWSER"):  # CI installs it and insists the test runs
        raise AssertionError(message)
    pytest.skip(message)


def _hayate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


@pytest.mark.slow
def test_report_renders_every_chart_in_chromium(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = _hayate("run", "examples/paper.toml", "--out", str(out), "-q",
                  "--set", "collectors.market.duration=10m")
    assert run.returncode == 0, run.stderr[-3000:]
    report = tmp_path / "report.html"
    made = _hayate("report", str(out), "--out", str(report))
    assert made.returncode == 0, made.stderr
    html = report.read_text()
    # Self-contained: nothing to fetch (the only URL is the SVG namespace).
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    charts = html.count('<svg class="chart"')
    assert charts >= 6

    profile = tmp_path / "chromium-profile"
    dom = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
         report.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-charts-drawn="{charts}"' in dom.stdout, re.findall(
        r'<svg class="chart" id="[^"]+"[^>]*data-drawn="0"', dom.stdout)
    assert 'data-drawn="0"' not in dom.stdout

    shot = tmp_path / "report.png"
    subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    "--window-size=1000,1400", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=120, check=True)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a page, not a blank


@pytest.mark.anyio
async def test_sim_market_replay_reports_its_progress() -> None:
    """The replay progress bar of ``hayate run`` follows sim.market's simulated time."""
    from hayate.status import StatusMonitor
    from hayate_testing.harness import make_plugins, run_spec_dict_async

    spec = {"name": "progress",
            "collectors": {"market": {"type": "sim.market", "duration": "2m"}},
            "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "mode": "noop"}},
            "executors": {"venue": {"type": "paper.exchange", "source": "market"}}}
    pm = make_plugins(extra=["hayate_paper.plugin"])
    result, runtime = await run_spec_dict_async(spec, pm)
    assert result.exit_code == 0
    market = runtime.component("market")
    done, total = market.progress()  # type: ignore[attr-defined]
    assert total == 120.0 and 119.0 < done <= 120.0
    snap = StatusMonitor(runtime).snapshot()
    assert snap.progress == (done, total)
