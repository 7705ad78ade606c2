"""Developer sessions: ``nox -l`` lists them, ``nox -s lint`` runs one.

- lint: ruff over the whole tree
- typecheck: mypy over each distribution's sources
- tests-<package>: one distribution's tests in a fresh environment holding only that
  distribution, its declared dependencies and its test extra (proves its requirements)
- tests_all: every test, all distributions installed editable (what CI and the README run)
- wheels: build every wheel, install them (not editable) in a fresh environment and check
  that `hayate plugins --json` finds each built-in plugin without an error
"""

from __future__ import annotations

import json
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


@nox.session(name="tests")
@nox.parametrize("package", PACKAGES)
def tests_isolated(session: nox.Session, package: str) -> None:
    """One distribution alone: only what its pyproject declares (plus the local test kit)."""
    local = ["./hayate-core", "./hayate-testing"] if package not in ("hayate-core",
                                                                     "hayate-testing") else []
    session.install(*local, f"./{package}[test]" if package != "hayate-testing" else
                    "./hayate-testing", "pytest-timeout")
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
