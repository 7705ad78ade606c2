"""Developer sessions: ``nox -l`` lists them, ``nox -s lint`` runs one.

- lint: ruff over the whole tree
- typecheck: mypy over each distribution's sources
- tests(package=...): one distribution's tests in a fresh environment holding only that
  distribution, its declared dependencies and its test extra (proves its requirements);
  ``nox -s tests`` runs the whole matrix. Sibling distributions it declares are installed
  from this tree (built as wheels, not editable), everything else from the package index.
  CI runs it with ``HAYATE_PURE_PYTHON=1`` (the pure-Python market-data path) after the
  README's test command ran everything on the compiled path.
- tests_all: every test, all distributions installed editable (what CI and the README run)
- wheels: build every wheel, install them (not editable) in a fresh environment and check
  that `hayate plugins --json` finds each built-in plugin without an error
- fuzz (not run by default): the fuzz tests with HAYATE_FUZZ_SCALE (default 20) times the
  examples, fresh random ones each run, then atheris on the decoders for FUZZ_SECONDS
  (default 600): `nox -s fuzz`, or `HAYATE_FUZZ_SCALE=200 FUZZ_SECONDS=3600 nox -s fuzz`
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests_all"]

ROOT = Path(__file__).parent
PACKAGES = ["hayate-core", "hayate-bybit", "hayate-paper", "hayate-strategies", "hayate-testing"]
PLUGINS = {"hayate-core": "core", "hayate-bybit": "bybit", "hayate-paper": "paper",
           "hayate-strategies": "strategies"}
EXAMPLES = ["examples/plugins/hayate-example-plugin", "examples/plugins/hayate-example-strategy"]


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("mypy>=1.10", "pydantic>=2.7", *[f"-e./{p}" for p in PACKAGES])
    for pkg in PACKAGES:
        session.run("mypy", f"{pkg}/src")


def _declared(package: str, extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """(distribution, extras) of every requirement ``package[extras]`` declares."""
    project = tomllib.loads((ROOT / package / "pyproject.toml").read_text())["project"]
    reqs = list(project.get("dependencies", []))
    for extra in extras:
        reqs += project.get("optional-dependencies", {}).get(extra, [])
    out = []
    for req in reqs:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?", req)
        assert m is not None, req
        wanted = frozenset(e.strip() for e in (m.group(2) or "").split(",") if e.strip())
        out.append((m.group(1).lower().replace("_", "-"), wanted))
    return out


def local_closure(package: str, extras: frozenset[str]) -> dict[str, frozenset[str]]:
    """The workspace distributions ``package[extras]`` needs, directly or through another
    sibling, with the extras asked of each: pip must take them from this tree (they are
    not on the package index, or not at this version)."""
    need: dict[str, frozenset[str]] = {package: extras}
    todo = [(package, extras)]
    while todo:
        dist, ex = todo.pop()
        for name, wanted in _declared(dist, ex):
            if name not in PACKAGES:
                continue
            merged = need.get(name, frozenset()) | wanted
            if merged != need.get(name):
                need[name] = merged
                todo.append((name, merged))
    return need


@nox.session(name="tests")
@nox.parametrize("package", PACKAGES)
def tests_isolated(session: nox.Session, package: str) -> None:
    """One distribution alone: only what its pyproject declares, and its test extra."""
    closure = local_closure(package, frozenset({"test"}))
    session.install(*[f"./{d}[{','.join(sorted(ex))}]" if ex else f"./{d}"
                      for d, ex in sorted(closure.items())])
    session.run("pytest", f"{package}/tests", "-p", "no:cacheprovider",
                "-o", f"testpaths={package}/tests", *session.posargs)


@nox.session
def tests_all(session: nox.Session) -> None:
    session.install("-r", "requirements-dev.txt")
    session.run("pytest", *session.posargs)


@nox.session
def wheels(session: nox.Session) -> None:
    dist = ROOT / "dist"
    dist.mkdir(exist_ok=True)
    for old in dist.glob("*.whl"):
        old.unlink()
    session.install("build")
    for pkg in [*PACKAGES, *EXAMPLES]:
        session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), pkg)
    wheels = sorted(str(w) for w in dist.glob("*.whl"))
    session.install(*wheels)
    out = session.run("hayate", "plugins", "--json", silent=True)
    assert isinstance(out, str)
    found = {p["name"]: p for p in json.loads(out)}
    expected = {*PLUGINS.values(), "example", "example_strategy"}
    missing = expected - set(found)
    if missing:
        session.error(f"plugins not discovered from wheels: {sorted(missing)}")
    broken = {n: p["error"] for n, p in found.items() if p["error"]}
    if broken:
        session.error(f"plugins with load errors: {broken}")
    session.log(f"discovered from wheels: {sorted(found)}")
    session.run("hayate", "check", "examples/paper.toml")


FUZZ_TESTS = ["hayate-bybit/tests/test_fuzz_decoders.py", "hayate-bybit/tests/test_fuzz_live.py"]


@nox.session
def fuzz(session: nox.Session) -> None:
    """Long fuzzing of every decoder: hypothesis (many more, random examples of the CI fuzz
    tests; a failure prints the example and a @reproduce_failure blob), then atheris
    (coverage-guided; a crash is written to fuzz/crash-*). Not in the default sessions."""
    session.install("-r", "requirements-dev.txt")
    scale = os.environ.get("HAYATE_FUZZ_SCALE", "20")
    session.run("pytest", *FUZZ_TESTS, "--timeout=0", "-p", "no:randomly",
                "--hypothesis-show-statistics", *session.posargs,
                env={"HAYATE_FUZZ_SCALE": scale})
    session.install("atheris")
    seconds = os.environ.get("FUZZ_SECONDS", "600")
    session.run("python", "fuzz/atheris_decoders.py", f"-max_total_time={seconds}",
                "-rss_limit_mb=4096", "-artifact_prefix=fuzz/")
