"""The repository stands alone: no test, example, benchmark or script reaches for a file
outside the checkout (a sample folder next to it, a home or workspace directory), so a
clone on any machine runs the README's test command. Real samples ship inside the
packages (``hayate_bybit/testing/samples``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

# A path that only exists on the machine the code was written on (spelt in pieces, so this
# file does not hold one itself).
_ROOTS = "|".join("/" + name for name in ("work", "home", "root", "Users"))
OUTSIDE = re.compile(r"(\.\./)+" + "shared" + r"\b|[\"'](" + _ROOTS + r"|/tmp/[\w.-]+/)")
CHECKED = (".py", ".toml", ".sh", ".cfg", ".ini", ".txt", ".json", ".yaml", ".yml")


def tracked_files(root: Path) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=root, capture_output=True,
                             check=True).stdout.decode()
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):  # an export without .git
        names = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                 and ".git" not in p.parts and ".venv" not in p.parts and ".nox" not in p.parts]
    return [root / n for n in names if n.endswith(CHECKED) or n == ".ci/run"]


def test_no_file_in_the_repository_points_outside_the_checkout(repo_root: Path) -> None:
    this = Path(__file__).resolve()
    hits = []
    for path in tracked_files(repo_root):
        if path.resolve() == this or not path.is_file():
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(repo_root)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_the_check_finds_a_path_outside(tmp_path: Path) -> None:
    """The pattern catches what it is for (else the test above could never fail)."""
    up, shared, samples = "../", "shared", "bybit-samples"
    for line in (f'SAMPLES = Path(__file__).parents[3] / "{up}{shared}/{samples}"',
                 f'p = Path("/{"work"}/{shared}/{samples}")', f"root = '/{'home'}/me/data'"):
        assert OUTSIDE.search(line), line
    for line in ('url = "http://127.0.0.1:8080/v5"', 'Path("runs") / "demo"', "# see docs/"):
        assert not OUTSIDE.search(line), line
