"""``hayate sweep``: run a bot over many parameter sets and datasets, then rank the results.

``hayate sweep SWEEP.toml`` is short for ``hayate sweep run SWEEP.toml``; ``report`` and
``export`` read a finished (or half-finished) sweep's output directory.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from hayate.cli import app as cli_app
from hayate.cli.app import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    _setup_logging,
    err,
    get_plugins,
    out,
    print_spec_error,
)
from hayate.exceptions import ConfigError, SpecError

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = ["sweep_app"]


def fail_config(message: str) -> None:
    """Exit 2 with ``message`` printed as is (the app's fail_config escapes markup)."""
    cli_app.fail_config(message)

EXIT_TERMINATED = 143


class _RunByDefault(TyperGroup):
    """``hayate sweep FILE ...`` means ``hayate sweep run FILE ...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


sweep_app = typer.Typer(
    cls=_RunByDefault,
    name="sweep",
    help="Run a bot over a grid or a random sample of parameters and datasets (locally or on "
         "Ray), then rank the results: hayate sweep SWEEP.toml; hayate sweep report OUT_DIR.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _default_out(name: str) -> Path:
    # No timestamp: running the same command again resumes the same sweep.
    return Path("runs") / f"sweep-{name}"


@sweep_app.command("run")
def run_cmd(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML).", show_default=False)],
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1,
                                 help="Local worker processes (default: every core).")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Run on Ray: 'local' (start one here), 'auto' (the "
                     "cluster this machine joined) or ray://HOST:10001."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (default runs/sweep-NAME; "
                                  "the same directory resumes an interrupted sweep).")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run failed combinations again too.")
    ] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Discard earlier results in the output directory.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and list the combinations; run nothing.")
    ] = False,
    log_level: Annotated[
        str, typer.Option("--log-level", help="Level of each combination's run.log (trace, "
                          "debug, info, warning, error).")
    ] = "info",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or results table.")
                     ] = False,
) -> None:
    """Run every combination of a sweep file not finished yet; rank the results."""
    from hayate.sweep.runner import plan_sweep, run_sweep

    if workers is not None and ray_address is not None:
        fail_config("--workers is for the local pool; on Ray every CPU of the cluster is used")
    from hayate.logs import parse_log_spec

    try:
        level, _ = parse_log_spec(log_level)
    except ValueError as e:
        fail_config(f"--log-level: {e}")
    _setup_logging("warning", "text")
    plugins = get_plugins()
    try:
        plan = plan_sweep(sweep_file, plugins.registry, plugin_hint=plugins.load_error_hint())
    except SpecError as e:
        print_spec_error(e)
        raise typer.Exit(EXIT_CONFIG) from None
    n = len(plan.combinations)
    if dry_run:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=f"{plan.sweep.name}: {n} combination{'s' if n != 1 else ''}, all valid")
        table.add_column("id")
        table.add_column("combination")
        for c in plan.combinations[:50]:
            table.add_row(c.id, Text(c.label()))
        out.print(table)
        if n > 50:
            out.print(f"... and {n - 50} more")
        raise typer.Exit(EXIT_OK)
    target = (out_dir or _default_out(plan.sweep.name)).resolve()
    if fresh:
        _discard(target)
    backend: Any
    if ray_address is not None:
        from hayate.sweep.ray_backend import RayCluster

        try:
            backend = RayCluster(ray_address)
        except ConfigError as e:
            fail_config(str(e))
            return
    else:
        from hayate.sweep.local import LocalPool

        backend = LocalPool(workers)

    progress = _progress(quiet)
    job: Any = None

    def on_start(outcome: Any) -> None:
        nonlocal job
        left = outcome.total - outcome.skipped
        if not quiet:
            done = f", {outcome.skipped} already done" if outcome.skipped else ""
            err.print(f"sweep {plan.sweep.name}: {outcome.total} combinations{done}; "
                      f"{left} to run on {backend.describe()} -> {target}", markup=False)
        if progress is not None and left:
            progress.start()
            job = progress.add_task("running", total=left, ok=0, failed=0)

    def on_result(combo: Any, result: Any, outcome: Any) -> None:
        if result.status != "ok" and not quiet:
            (progress.console if progress is not None else err).print(
                f"[red]failed[/] {combo.id} {escape(combo.label())}: {escape(str(result.error))}",
                markup=True, highlight=False)
        if progress is not None and job is not None:
            progress.update(job, advance=1, ok=outcome.ok, failed=outcome.failed)

    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        outcome = run_sweep(plan, target, backend, retry_failed=retry_failed, log_level=level,
                            on_start=on_start, on_result=on_result)
    except KeyboardInterrupt as e:
        if progress is not None:
            progress.stop()
        how = "terminated" if isinstance(e, _Terminated) else "interrupted"
        err.print(f"{how}; finished combinations are kept in {target}: run the same "
                  "command again to resume", markup=False)
        raise typer.Exit(EXIT_TERMINATED if isinstance(e, _Terminated) else EXIT_INTERRUPTED
                         ) from None
    except ConfigError as e:
        if progress is not None:
            progress.stop()
        fail_config(str(e))
        return
    finally:
        signal.signal(signal.SIGTERM, previous)
        if progress is not None:
            progress.stop()
    _export_defaults(target, quiet)
    if not quiet:
        err.print(f"done in {outcome.seconds:.1f}s: {outcome.ok} ok, {outcome.failed} failed"
                  + (f", {outcome.skipped} skipped (already done)" if outcome.skipped else ""))
        _print_report(target, metric="net_pnl", by=[], top=10, order=None, svg=None,
                      write_svg=False)
    raise typer.Exit(EXIT_FAILURE if outcome.failed else EXIT_OK)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler, ``kill``): stop like Ctrl-C, keep what finished, exit 143."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated


def _progress(quiet: bool) -> Progress | None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if quiet or not err.is_terminal:
        return None
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/]"),
                    TimeRemainingColumn(), console=err, transient=True)


def _discard(target: Path) -> None:
    """Remove what a sweep wrote there (only if it is a sweep's directory)."""
    from hayate.sweep.runner import RUNS_DIR
    from hayate.sweep.store import STORE_NAME

    if not target.exists():
        return
    if not (target / STORE_NAME).exists():
        fail_config(f"--fresh: {target} is not a sweep's output directory ({STORE_NAME} not "
                    "found); nothing was removed")
    for name in (STORE_NAME, f"{STORE_NAME}-wal", f"{STORE_NAME}-shm", "results.csv",
                 "results.parquet"):
        (target / name).unlink(missing_ok=True)
    shutil.rmtree(target / RUNS_DIR, ignore_errors=True)
    for svg in target.glob("heatmap-*.svg"):
        svg.unlink()


def _export_defaults(target: Path, quiet: bool) -> None:
    from hayate.sweep.export import write_csv, write_parquet
    from hayate.sweep.store import ResultStore

    with ResultStore.open_existing(target) as store:
        write_csv(store, target / "results.csv")
        try:
            write_parquet(store, target / "results.parquet")
        except ConfigError as e:
            if not quiet:
                err.print(f"results.csv written; no Parquet file: {e}", markup=False)


# -- report ----------------------------------------------------------------------------------


OutArg = Annotated[Path, typer.Argument(help="A sweep's output directory.", show_default=False)]


@sweep_app.command("report")
def report_cmd(
    out_dir: OutArg,
    metric: Annotated[str, typer.Option("--metric", "-m", help="Figure to rank and map by.")
                      ] = "net_pnl",
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Parameter of the heat map (twice: x then y; dotted key or its "
                     "last part). Default: the first two that vary."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows of the ranked table.")] = 20,
    min_fills: Annotated[int, typer.Option(
        "--min-fills", min=0, help="Parameter sets with fewer fills (mean over their runs) "
        "are ranked after every set that has them.")] = 1,
    order: Annotated[
        str | None, typer.Option("--order", help="'desc' (best = highest) or 'asc'; default by "
                                 "metric (lower is better for drawdown, fees).")
    ] = None,
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Heat map file (default OUT_DIR/heatmap-….svg).")
    ] = None,
    no_svg: Annotated[bool, typer.Option("--no-svg", help="Do not write the SVG heat map.")
                      ] = False,
) -> None:
    """Ranked table of parameter sets and a heat map of a metric over two parameters."""
    if order not in (None, "asc", "desc"):
        fail_config(f"--order must be 'asc' or 'desc', not {order!r}")
    _print_report(out_dir, metric=metric, by=by or [], top=top, order=order, svg=svg,
                  write_svg=not no_svg, min_fills=min_fills)


def _open_store(out_dir: Path) -> Any:
    from hayate.sweep.store import ResultStore

    try:
        return ResultStore.open_existing(out_dir)
    except FileNotFoundError as e:
        fail_config(str(e))


def _short_names(keys: list[str]) -> dict[str, str]:
    """The shortest dotted suffix naming each key unambiguously."""
    names = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            cand = ".".join(parts[-n:])
            if sum(1 for k in keys if k == cand or k.endswith("." + cand)) == 1:
                names[key] = cand
                break
        else:
            names[key] = key
    return names


def _resolve_keys(wanted: list[str], keys: list[str]) -> list[str]:
    from hayate.plugins.registry import did_you_mean

    short = _short_names(keys)
    resolved = []
    for w in wanted:
        matches = [k for k in keys if k == w or short[k] == w or k.endswith("." + w)]
        if len(matches) != 1:
            choices = [short[k] for k in keys]
            guess = did_you_mean(w, choices + keys)
            what = "is ambiguous" if matches else "is not a parameter of this sweep"
            fail_config(f"--by {w!r} {what}" + (f" (did you mean {guess!r}?)" if guess else "")
                        + f"; parameters: {', '.join(choices) or '(none)'}")
        resolved.append(matches[0])
    return resolved


def _print_report(out_dir: Path, *, metric: str, by: list[str], top: int, order: str | None,
                  svg: Path | None, write_svg: bool, min_fills: int = 1) -> None:
    from rich.table import Table
    from rich.text import Text

    from hayate.plugins.registry import did_you_mean
    from hayate.sweep.export import display
    from hayate.sweep.heatmap_svg import heat_map_svg
    from hayate.sweep.report import default_axes, heat_map, rank
    from hayate.sweep.store import LOWER_IS_BETTER, METRICS

    if metric not in METRICS:
        guess = did_you_mean(metric, list(METRICS))
        fail_config(f"--metric {metric!r} is not a sweep figure"
                    + (f" (did you mean {guess!r}?)" if guess else "")
                    + f"; choose one of {', '.join(METRICS)}")
    lower = metric in LOWER_IS_BETTER
    descending = (order or ("asc" if lower else "desc")) == "desc"
    with _open_store(out_dir) as store:
        rows = store.rows()
        keys = store.param_keys()
        meta = store.meta()
    short = _short_names(keys)
    if len(by) > 2:
        fail_config("--by takes at most two parameters (x, then y)")
    axes = _resolve_keys(by, keys) if by else default_axes(rows, keys)

    done = [r for r in rows if r.status != "pending"]
    failed = [r for r in rows if r.status == "failed"]
    pending = len(rows) - len(done)
    title = (f"{meta.get('name', out_dir.name)}: {len(done)} of {len(rows)} combinations done, "
             f"{len(failed)} failed" + (f", {pending} pending" if pending else ""))
    out.print(title, style="bold", markup=False)

    ranked = rank(rows, metric, descending=descending, min_fills=min_fills)
    multi = any(len(g.values) > 1 for g in ranked)
    context = [m for m in ("fills", "max_drawdown") if m != metric]
    table = Table(title=f"ranked by {metric} ({'mean over datasets, ' if multi else ''}"
                        f"{'highest' if descending else 'lowest'} first)")
    table.add_column("#", justify="right")
    for k in keys:
        table.add_column(short[k])
    table.add_column(f"{metric} (mean)" if multi else metric, justify="right", style="bold")
    if multi:
        table.add_column("worst", justify="right")
        table.add_column("best", justify="right")
    for m in context:
        table.add_column(m, justify="right")
    table.add_column("runs", justify="right")
    for i, g in enumerate(ranked[:top], start=1):
        fig = [_fmt(g.mean)]
        if multi:
            fig += [_fmt(g.worst), _fmt(g.best)]
        ctx = [_fmt(g.means.get(m)) for m in context]
        runs = f"{g.ok}" + (f" ({g.note})" if g.note else "")
        table.add_row(str(i), *[Text(display(g.params.get(k))) for k in keys], *fig, *ctx, runs)
    out.print(table)
    if len(ranked) > top:
        out.print(f"({len(ranked) - top} more parameter sets; --top N to see them)")

    if failed:
        ft = Table(title="failed combinations")
        for col in ("id", "combination", "error"):
            ft.add_column(col)
        for r in failed[:top]:
            label = " ".join(f"{short[k]}={display(v)}" for k, v in r.params.items())
            if r.dataset is not None:
                label += f" dataset={display(r.dataset)}"
            ft.add_row(r.id, Text(label), Text((r.error or "")[:300]))
        out.print(ft)

    if not axes:
        return
    x_key = axes[0]
    y_key = axes[1] if len(axes) > 1 else None
    hm = heat_map(rows, metric, x_key, y_key, label=display)
    _print_heat_map(hm, short, lower)
    if write_svg:
        name = "-".join(short[k].replace(".", "_") for k in axes)
        path = svg or (out_dir / f"heatmap-{metric}-{name}.svg")
        path.write_text(heat_map_svg(hm, title=f"{meta.get('name', '')}: {metric}",
                                     lower_is_better=lower), encoding="utf-8")
        out.print(f"heat map: {path}", markup=False)


def _fmt(value: float | None) -> str:
    from hayate.sweep.heatmap_svg import format_value

    return "-" if value is None else format_value(value)


def _print_heat_map(hm: Any, short: dict[str, str], lower: bool) -> None:
    from rich.style import Style
    from rich.table import Table
    from rich.text import Text

    from hayate.sweep.heatmap_svg import format_value
    from hayate.sweep.report import color, text_color

    bounds = hm.bounds
    y_name = short[hm.y_key] if hm.y_key else ""
    table = Table(title=f"mean {hm.metric}: {short[hm.x_key]} (columns)"
                        + (f" x {y_name} (rows)" if hm.y_key else ""))
    table.add_column(y_name)
    for x in hm.xs:
        table.add_column(Text(x), justify="right")
    for j, y in enumerate(hm.ys):
        cells: list[Any] = []
        for i in range(len(hm.xs)):
            found = hm.cell(i, j)
            if found is None or bounds is None:
                cells.append(Text("-", style="dim"))
                continue
            rgb = color(found[0], *bounds, lower_is_better=lower)
            style = Style(bgcolor="#{:02x}{:02x}{:02x}".format(*rgb), color=text_color(rgb))
            cells.append(Text(f" {format_value(found[0])} ", style=style))
        table.add_row(Text(y), *cells)
    out.print(table)


# -- export ----------------------------------------------------------------------------------


@sweep_app.command("export")
def export_cmd(
    out_dir: OutArg,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Write a CSV file here.")] = None,
    parquet_path: Annotated[
        Path | None, typer.Option("--parquet", help="Write a Parquet file here (needs pyarrow).")
    ] = None,
) -> None:
    """Write the results table (one row per combination) as CSV and/or Parquet."""
    from hayate.sweep.export import write_csv, write_parquet

    if csv_path is None and parquet_path is None:
        csv_path = out_dir / "results.csv"
    with _open_store(out_dir) as store:
        try:
            if csv_path is not None:
                n = write_csv(store, csv_path)
                out.print(f"{csv_path}: {n} rows", markup=False)
            if parquet_path is not None:
                n = write_parquet(store, parquet_path)
                out.print(f"{parquet_path}: {n} rows", markup=False)
        except ConfigError as e:
            fail_config(str(e))
