"""The ``hayate`` command line (typer + rich). The only place in Hayate that prints.

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, 130 after a clean
Ctrl-C (143 after SIGTERM). Whatever a command (ours or a plugin's) raises ends as one of
those with a one-line message; the traceback only with ``--debug`` or ``HAYATE_LOG=debug``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

import hayate
from hayate.exceptions import ConfigError, HayateError, SpecError
from hayate.plugins.manager import PluginManager, load_plugins

__all__ = ["app", "main"]

log = logging.getLogger("hayate.cli")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class State:
    debug: bool = False
    plugins: PluginManager | None = None


STATE = State()


def get_plugins() -> PluginManager:
    if STATE.plugins is None:
        STATE.plugins = load_plugins()
    return STATE.plugins


def debug_enabled() -> bool:
    """``--debug``, or ``HAYATE_LOG`` at debug for everything or for ``hayate``: show
    tracebacks."""
    if STATE.debug:
        return True
    from hayate.logs import parse_log_spec

    try:
        root, per = parse_log_spec(os.environ.get("HAYATE_LOG", ""))
    except ValueError:
        return False
    return min([root, *(lvl for name, lvl in per.items() if name in ("hayate", "hayate.cli"))]
               ) <= logging.DEBUG


DEBUG_HINT = "rerun with HAYATE_LOG=debug for the traceback"


def one_line(text: str, limit: int = 300) -> str:
    """A message that may span lines (a library's error text), on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def report_exception(e: BaseException, label: str = "unexpected error") -> None:
    """One line on stderr; the traceback first when debugging."""
    debug = debug_enabled()
    if debug:
        import traceback

        err.print("".join(traceback.format_exception(e)).rstrip(), markup=False)
    text = f"{type(e).__name__}: {e}" if label == "unexpected error" else str(e)
    err.print(f"[bold red]{label}:[/] {escape(one_line(text))}"
              + ("" if debug else f" ({DEBUG_HINT})"), markup=True)


# Exceptions that are the command line's own flow (exit codes, usage errors, --help): typer
# either uses click or a vendored copy of it, so its usage-error base is found through a
# class typer exports.
_CLICK_EXCEPTION: type[BaseException] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_COMMAND_LINE_FLOW: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, _CLICK_EXCEPTION)


class _Commands(TyperGroup):
    """The root command group: turns whatever a command raises into an exit code and one
    line, for every command, core or plugin, and under typer's CliRunner as well."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _COMMAND_LINE_FLOW:
            raise
        except SpecError as e:
            print_spec_error(e)
            raise typer.Exit(EXIT_CONFIG) from None
        except ConfigError as e:
            err.print(f"[bold red]error:[/] {escape(one_line(str(e)))}", markup=True)
            raise typer.Exit(EXIT_CONFIG) from None
        except HayateError as e:
            report_exception(e, "error")
            raise typer.Exit(EXIT_FAILURE) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as e:
            report_exception(e)
            raise typer.Exit(EXIT_FAILURE) from None


def _version(value: bool) -> None:
    if value:
        from hayate.book import accel

        out.print(f"hayate {hayate.__version__} ({accel.describe()})", highlight=False)
        raise typer.Exit(EXIT_OK)


app = typer.Typer(
    cls=_Commands,
    name="hayate",
    help="Hayate (疾風): algorithmic trading bots from a TOML spec: replay, paper and live.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks on errors (as HAYATE_LOG=debug does).")
    ] = False,
) -> None:
    STATE.debug = debug or STATE.debug


def _setup_logging(level: str | None, log_format: str) -> None:
    from hayate.logs import configure_logging

    try:
        configure_logging(level, os.environ.get("HAYATE_LOG"), log_format,
                          rich_console=err if log_format == "text" and err.is_terminal else None)
    except ValueError as e:
        fail_config(str(e))


def fail_config(message: str) -> None:
    """Exit 2 with ``message`` printed as is (brackets in it are not markup)."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    raise typer.Exit(EXIT_CONFIG)


def print_spec_error(e: SpecError) -> None:
    n = len(e.problems)
    err.print(f"[bold red]error:[/] {escape(e.path or 'spec')}: {n} problem{'s' if n != 1 else ''}",
              markup=True)
    for p in e.problems:
        err.print(f"  - {p}", markup=False)


def load_spec_or_exit(path: Path, overrides: list[str]) -> Any:
    from hayate.spec.loader import load_spec

    plugins = get_plugins()
    try:
        spec = load_spec(path, plugins.registry, overrides=overrides,
                         plugin_hint=plugins.load_error_hint())
    except SpecError as e:
        print_spec_error(e)
        raise typer.Exit(EXIT_CONFIG) from None
    return spec


SpecArg = Annotated[Path, typer.Argument(help="Bot spec (TOML).", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a spec value: dotted.key=value (repeatable)."),
]


@app.command()
def check(
    spec: SpecArg,
    set_: SetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Validate a spec without running it: exit 0 if valid, 2 listing every problem."""
    from hayate.spec.loader import load_spec

    plugins = get_plugins()
    try:
        loaded = load_spec(spec, plugins.registry, overrides=set_ or [],
                           plugin_hint=plugins.load_error_hint())
    except SpecError as e:
        if as_json:
            out.print(json.dumps([p.as_json() for p in e.problems], indent=2), markup=False)
        print_spec_error(e)
        raise typer.Exit(EXIT_CONFIG) from None
    n = sum(1 for _ in loaded.all_components())
    if as_json:
        out.print("[]", markup=False)
    err.print(f"{spec}: ok ({loaded.name}, {n} components)", markup=False)


@app.command()
def run(
    spec: SpecArg,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (summary.json, fills...).")
    ] = None,
    set_: SetOpt = None,
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="trace, debug, info, warning, error (also HAYATE_LOG)."),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text or json (one object per line).")
    ] = "text",
    live: Annotated[
        bool, typer.Option("--live", help="Confirm trading real money (mainnet executors).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary table.")] = False,
    secrets_dir: Annotated[
        Path | None,
        typer.Option("--secrets-dir", help="Directory of secret files (HAYATE_BYBIT_API_KEY...)."),
    ] = None,
) -> None:
    """Run a bot until its data ends, its duration passes, or Ctrl-C."""
    if secrets_dir is not None:
        if not secrets_dir.is_dir():
            fail_config(f"--secrets-dir {secrets_dir} is not a directory")
        os.environ["HAYATE_SECRETS_DIR"] = str(secrets_dir)
    if log_format not in ("text", "json"):
        fail_config(f"--log-format must be 'text' or 'json', not {log_format!r}")
    _setup_logging(log_level, log_format)
    loaded = load_spec_or_exit(spec, set_ or [])
    from hayate.spec.loader import needs_live_flag

    real = [c for c in loaded.components["executors"].values() if needs_live_flag(c)]
    if real and not live:
        fail_config(f"executor {real[0].id!r} ({real[0].kind}) trades real money; "
                    "pass --live to confirm")
    plugins = get_plugins()
    try:
        plugins.hook.hayate_spec_loaded(spec=loaded)
    except ConfigError as e:  # a plugin's own rule refused the spec
        fail_config(str(e))
    if out_dir is None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out_dir = Path("runs") / f"{loaded.name}-{stamp}"
    from hayate.outlock import OutDirBusy, OutDirLock

    lock = OutDirLock(out_dir)
    try:
        lock.acquire()
    except OutDirBusy as e:
        fail_config(str(e))
    if lock.stale_pid is not None:
        err.print(f"{out_dir}: taking over from pid {lock.stale_pid}, which stopped without "
                  "releasing it", markup=False)
    try:
        _run_locked(loaded, plugins, out_dir, quiet, log_format)
    finally:
        lock.release()


def _run_locked(loaded: Any, plugins: PluginManager, out_dir: Path, quiet: bool,
                log_format: str) -> None:
    """``hayate run`` once its ``--out`` is locked: build, run, print the summary."""
    from hayate.engine.runtime import BotRuntime
    from hayate.status.monitor import STATUS_CONSOLE

    try:
        runtime = BotRuntime(loaded, plugins, out_dir=out_dir)
    except ConfigError as e:
        fail_config(str(e))
        return
    if not quiet and out.is_terminal and log_format == "text":
        runtime.stash[STATUS_CONSOLE] = out  # the live status panel
    import anyio

    try:
        result = anyio.run(runtime.run, backend="asyncio")
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if not quiet:
        from hayate.cli.summary import print_summary

        print_summary(out, result.summary, out_dir)
    if result.error is not None:
        debug = debug_enabled()
        if debug:
            import traceback

            err.print("".join(traceback.format_exception(result.error)), markup=False)
        err.print(f"[bold red]bot stopped with an error:[/] {escape(one_line(result.exit_reason))}"
                  + ("" if debug else f" ({DEBUG_HINT})"), markup=True)
    raise typer.Exit(result.exit_code)


@app.command()
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List installed plugins, what they register, and load errors."""
    pm = get_plugins()
    items = [p.as_json() for p in pm.info_list()]
    if as_json:
        out.print(json.dumps(items, indent=2), markup=False)
        return
    from rich.table import Table

    table = Table(title="Hayate plugins")
    for col in ("name", "distribution", "version", "kinds", "error"):
        table.add_column(col)
    for p in items:
        kinds = "; ".join(f"{role}: {', '.join(k)}" for role, k in p["kinds"].items() if k)
        table.add_row(p["name"], p["distribution"], p["version"], kinds or "-",
                      p["error"] or "", style="red" if p["error"] else None)
    out.print(table)


@app.command()
def components(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List every component kind by role, with the plugin that provides it."""
    pm = get_plugins()
    rows = []
    for role, entries in pm.registry.entries.items():
        for kind in sorted(entries):
            e = entries[kind]
            rows.append({"role": role, "kind": kind, "plugin": e.plugin,
                         "distribution": e.distribution, "description": e.doc})
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    from rich.table import Table

    table = Table(title="Component kinds")
    for col in ("role", "kind", "distribution", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["role"], r["kind"], r["distribution"], r["description"])
    out.print(table)


@app.command()
def schema(
    kind: Annotated[
        str | None, typer.Argument(help="One component kind (default: the whole spec).")
    ] = None,
) -> None:
    """Print the JSON schema of the spec (engine and every component kind) or of one kind."""
    from hayate.cli.schema import spec_schema

    pm = get_plugins()
    try:
        doc = spec_schema(pm.registry, kind)
    except KeyError as e:
        fail_config(str(e.args[0]))
        return
    out.print(json.dumps(doc, indent=2, default=str), markup=False)


def _register_core_commands() -> None:
    from hayate.cli.kill import kill
    from hayate.cli.sweep import sweep_app

    app.command("kill")(kill)
    from hayate.cli.report import report

    app.command("report")(report)
    app.add_typer(sweep_app, name="sweep")


_register_core_commands()


def build_app() -> typer.Typer:
    pm = get_plugins()
    for name, error in pm.register_commands(app):
        log.warning("plugin %s could not add its commands: %s", name, error)
    return app


def _missing_command(cli: typer.Typer, args: list[str]) -> None:
    """``hayate record`` without hayate-bybit installed: say what to install."""
    from hayate.plugins.registry import KNOWN_COMMANDS

    name = next((a for a in args if not a.startswith("-")), None)
    package = KNOWN_COMMANDS.get(name or "")
    if package is None:
        return
    have = {c.name or (c.callback.__name__ if c.callback else "") for c in cli.registered_commands}
    have |= {g.name or "" for g in cli.registered_groups}
    if name not in have:
        err.print(f"[bold red]error:[/] 'hayate {name}' comes with {package}: "
                  f"pip install {package}", markup=True)
        sys.exit(EXIT_CONFIG)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    if "--debug" in (argv if argv is not None else sys.argv[1:]):
        STATE.debug = True
    try:
        cli = build_app()
        _missing_command(cli, argv if argv is not None else sys.argv[1:])
        cli(args=argv, prog_name="hayate", standalone_mode=True)
    # What escapes the command group (plugin loading, building the app) ends the same way.
    except SpecError as e:
        print_spec_error(e)
        sys.exit(EXIT_CONFIG)
    except ConfigError as e:
        err.print(f"[bold red]error:[/] {escape(one_line(str(e)))}", markup=True)
        sys.exit(EXIT_CONFIG)
    except HayateError as e:
        report_exception(e, "error")
        sys.exit(EXIT_FAILURE)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as e:
        report_exception(e)
        sys.exit(EXIT_FAILURE)
