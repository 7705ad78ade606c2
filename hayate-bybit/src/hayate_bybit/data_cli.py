"""``hayate data``: download Bybit's public history, and list, verify or remove it.

Registered through the plugin hook. Only typer is imported here: httpx, rich's progress
bar and the download machinery load inside the commands, so ``hayate --help`` stays fast.
The ``data`` group (and its ``download`` subgroup) is shared: another venue plugin adds
``hayate data download <venue>`` to the same group.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hayate_bybit.history.catalog import Catalog, Entry
    from hayate_bybit.history.download import DownloadReport

__all__ = ["register_data_commands"]

DirOpt = Annotated[Path | None, typer.Option(
    "--dir", help="Data directory (default: $HAYATE_DATA_DIR, else the per-user data "
                  "directory, e.g. ~/.local/share/hayate).", show_default=False)]


def _group(parent: Any, name: str, help: str) -> typer.Typer:
    """The sub-command group ``name`` of ``parent``, created if no plugin made it yet."""
    for info in getattr(parent, "registered_groups", []):
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(name=name, help=help, no_args_is_help=True, rich_markup_mode=None)
    parent.add_typer(group, name=name)
    return group


def register_data_commands(app: Any) -> None:
    data = _group(app, "data", "Market data history: download, list, verify, remove.")
    downloads = _group(data, "download", "Download a venue's public history archives.")
    downloads.command("bybit")(download_bybit)
    data.command("list")(list_data)
    data.command("verify")(verify_data)
    data.command("rm")(remove_data)


# -- helpers ----------------------------------------------------------------------------------


def _day(text: str, option: str) -> date:
    from hayate.cli.app import fail_config

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail_config(f"{option} {text!r} is not a date (YYYY-MM-DD)")
        raise AssertionError("unreachable") from None


def _url(value: str | None, option: str) -> str | None:
    """An http(s) root, or a usage error now (not a dozen retries of a bad address)."""
    from urllib.parse import urlsplit

    from hayate.cli.app import fail_config

    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail_config(f"{option} {value!r} is not an http(s) URL, e.g. https://public.bybit.com")
    return value.strip().rstrip("/")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _require_downloaded(catalog: Catalog, datasets: list[str] | None) -> None:
    """Exit 1 naming what is downloaded when a dataset asked for has no file at all."""
    from hayate.cli.app import EXIT_FAILURE, err, fail_config
    from hayate.exceptions import ConfigError
    from hayate_bybit.history.dataset import not_downloaded
    from hayate_bybit.history.layout import DatasetName

    problems = []
    for text in datasets or []:
        try:
            why = not_downloaded(DatasetName.parse(text), catalog)
        except ConfigError as e:
            fail_config(str(e))
            return
        if why:
            problems.append(why)
    for why in dict.fromkeys(problems):
        err.print(f"[bold red]error:[/] {why}", markup=True, highlight=False)
    if problems:
        raise typer.Exit(EXIT_FAILURE)


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _data_dir(explicit: Path | None) -> Path:
    from hayate_bybit.history.datadir import resolve_data_dir

    return resolve_data_dir(explicit)


def _setup_logging() -> None:
    """Show the library's warnings (retries, re-fetched archives), unless whoever runs the
    command (a test, an embedding program) has set logging up already."""
    import logging
    import os

    from hayate.cli.app import err
    from hayate.logs import configure_logging

    if logging.getLogger().handlers:
        return
    configure_logging(None, os.environ.get("HAYATE_LOG"), "text",
                      rich_console=err if err.is_terminal else None)


def _select(catalog: Catalog, datasets: list[str] | None, start: date | None = None,
            end: date | None = None, kinds: tuple[str, ...] | None = None
            ) -> dict[str, Entry]:
    """Catalog entries of the named datasets (all: none named), days and kinds."""
    from hayate.cli.app import fail_config
    from hayate.exceptions import ConfigError
    from hayate_bybit.history.layout import DatasetName

    try:
        names = [DatasetName.parse(d) for d in datasets or []]
    except ConfigError as err:
        fail_config(str(err))
        return {}
    out: dict[str, Entry] = {}
    for key, e in sorted(catalog.entries.items()):
        if names and not any(e.category == n.category and e.symbol == n.symbol for n in names):
            continue
        if (start is not None and e.on < start) or (end is not None and e.on > end):
            continue
        if kinds is not None and e.kind not in kinds:
            continue
        out[key] = e
    return out


def _kinds(kind: str) -> tuple[str, ...]:
    from hayate.cli.app import fail_config

    choices = {"both": ("book", "trades"), "book": ("book",), "trades": ("trades",)}
    if kind not in choices:
        fail_config(f"--kind {kind!r}: choose book, trades or both")
    return choices[kind]


# -- download ---------------------------------------------------------------------------------


def download_bybit(
    symbols: Annotated[str, typer.Option(help="Comma-separated, e.g. BTCUSDT,ETHUSDT.")],
    from_: Annotated[str, typer.Option("--from", help="First day (UTC), YYYY-MM-DD.")],
    to: Annotated[str | None, typer.Option(
        "--to", help="Last day (UTC, included); default: --from.", show_default=False)] = None,
    category: Annotated[str, typer.Option(help="linear or spot.")] = "linear",
    kind: Annotated[str, typer.Option(help="book, trades or both.")] = "both",
    depth: Annotated[int | None, typer.Option(
        help="Order-book depth (200, 500); default: what each day has.",
        show_default=False)] = None,
    data_dir: DirOpt = None,
    jobs: Annotated[int, typer.Option(help="Files downloaded at once.")] = 4,
    retries: Annotated[int, typer.Option(help="Retries per file (with backoff).")] = 5,
    base_url: Annotated[str | None, typer.Option(
        help="A mirror serving trading/, spot/ and orderbook/ (and the REST API) from one "
             "root, instead of Bybit's hosts.", show_default=False)] = None,
    trades_url: Annotated[str | None, typer.Option(
        help="Host of the trade archives (default https://public.bybit.com).",
        show_default=False)] = None,
    book_url: Annotated[str | None, typer.Option(
        help="Host of the order-book archives (default https://quote-saver.bycsi.com).",
        show_default=False)] = None,
    rest_url: Annotated[str | None, typer.Option(
        help="REST API for the rules snapshot (default https://api.bybit.com, or "
             "--base-url).", show_default=False)] = None,
    rules: Annotated[bool, typer.Option(
        help="Save the symbols' trading rules (instruments-info) beside the data.")] = True,
) -> None:
    """Download Bybit's daily public archives (order book, trades) into the data directory."""
    import time

    import anyio

    from hayate.cli.app import EXIT_FAILURE, EXIT_INTERRUPTED, err, fail_config, out
    from hayate.exceptions import ConfigError, HayateError
    from hayate_bybit.history.download import DownloadRequest, UnknownSymbols, download
    from hayate_bybit.history.layout import (
        BOOK_HOST,
        TRADES_HOST,
        ArchiveHosts,
        check_category,
        check_symbol,
    )

    _setup_logging()
    start = _day(from_, "--from")
    end = _day(to, "--to") if to else start
    try:
        request = DownloadRequest(
            category=check_category(category),
            symbols=tuple(dict.fromkeys(check_symbol(s) for s in symbols.split(",")
                                        if s.strip())),
            kinds=_kinds(kind),  # type: ignore[arg-type]
            start=start, end=end, depth=depth)
    except ConfigError as e:
        fail_config(str(e))
        return
    if depth is not None and depth < 1:
        fail_config("--depth must be positive")
    base_url = _url(base_url, "--base-url")
    trades_url = _url(trades_url, "--trades-url")
    book_url = _url(book_url, "--book-url")
    rest_url = _url(rest_url, "--rest-url")
    hosts = ArchiveHosts(trades=trades_url or base_url or TRADES_HOST,
                         book=book_url or base_url or BOOK_HOST)
    rest = None if not rules else (rest_url or base_url or "https://api.bybit.com")
    directory = _data_dir(data_dir)
    progress = _RichProgress(err) if err.is_terminal else _LineProgress(err)
    err.print(f"{request.category} {', '.join(request.symbols)} {'+'.join(request.kinds)} "
              f"{start}..{end} -> {directory}", markup=False)
    started = time.monotonic()
    try:
        with progress:
            report = anyio.run(lambda: download(request, directory, hosts=hosts, rest_url=rest,
                                                jobs=jobs, retries=retries, progress=progress),
                               backend="asyncio")
    except KeyboardInterrupt:
        err.print("interrupted: the files finished are catalogued, the others resume where "
                  "they stopped when you run the same command again")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except UnknownSymbols as e:
        fail_config(str(e))
        return
    except ConfigError as e:
        fail_config(str(e))
        return
    except HayateError as e:
        err.print(f"[bold red]error:[/] {e}", markup=True)
        raise typer.Exit(EXIT_FAILURE) from None
    _print_report(report, out, err, time.monotonic() - started)
    if report.of("failed"):
        raise typer.Exit(EXIT_FAILURE)
    if not report.of("downloaded") and not report.of("present"):
        err.print("nothing to download: no day of that range is published", markup=False)
        raise typer.Exit(EXIT_FAILURE)


def _print_report(report: DownloadReport, out: Any, err: Any, seconds: float) -> None:
    for line in report.missing_lines():
        err.print(f"[yellow]missing:[/] {line}", markup=True, highlight=False)
    for o in report.of("failed"):
        err.print(f"[bold red]failed:[/] {o.file.label()}: {o.detail}", markup=True,
                  highlight=False)
    for symbol, what in report.rules.items():
        err.print(f"rules {symbol}: {what}", markup=False)
    got = report.of("downloaded")
    here = report.of("present")
    n = report.bytes_downloaded
    rate = f", {_size(n / seconds)}/s" if seconds > 0 and n else ""
    out.print(f"{len(got)} downloaded ({_size(n)} in {seconds:.1f}s{rate}), {len(here)} "
              f"already here, {_plural(len(report.missing), 'day')} missing, {len(report.of('failed'))} "
              f"failed -> {report.data_dir}", markup=False)


class _LineProgress:
    """Without a terminal: one line per finished file."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def planned(self, files: int, total_bytes: int | None) -> None:
        if files:
            size = f", {_size(total_bytes)}" if total_bytes else ""
            self.console.print(f"{files} file{'s' if files != 1 else ''} to fetch{size}",
                               markup=False)

    def started(self, f: Any, total: int | None, have: int) -> None:
        pass

    def advanced(self, f: Any, n: int) -> None:
        pass

    def finished(self, outcome: Any) -> None:
        if outcome.status == "downloaded":
            resumed = f", resumed at {_size(outcome.resumed_from)}" if outcome.resumed_from \
                else ""
            self.console.print(f"{outcome.file.label()}: {_size(outcome.size)}, "
                               f"{outcome.messages} messages in {outcome.seconds:.1f}s{resumed}",
                               markup=False)


class _RichProgress:
    """On a terminal: one bar for everything (bytes, speed, ETA), one per file in flight."""

    def __init__(self, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                                 console=console, transient=False)
        self.total = self.progress.add_task("total", total=None, start=False)
        self.tasks: dict[Any, Any] = {}
        self.done: dict[Any, int] = {}
        self.console = console

    def __enter__(self) -> _RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def planned(self, files: int, total_bytes: int | None) -> None:
        self.progress.update(self.total, description=f"{files} files", total=total_bytes)
        self.progress.start_task(self.total)

    def started(self, f: Any, total: int | None, have: int) -> None:
        task = self.tasks.get(f)
        if task is None:
            task = self.tasks[f] = self.progress.add_task(f.label(), total=total)
        self.progress.update(task, total=total, completed=have)
        self.done[f] = have
        self._sum()

    def advanced(self, f: Any, n: int) -> None:
        self.done[f] = self.done.get(f, 0) + n
        task = self.tasks.get(f)
        if task is not None:
            self.progress.advance(task, n)
        self._sum()

    def _sum(self) -> None:
        self.progress.update(self.total, completed=sum(self.done.values()))

    def finished(self, outcome: Any) -> None:
        task = self.tasks.pop(outcome.file, None)
        if task is not None:
            self.progress.remove_task(task)
        if outcome.status == "downloaded":
            self.console.print(f"{outcome.file.label()}: {_size(outcome.size)}, "
                               f"{outcome.messages} messages", markup=False)


# -- list -------------------------------------------------------------------------------------


def list_data(
    datasets: Annotated[list[str] | None, typer.Argument(
        help="Datasets to show, e.g. bybit/linear/BTCUSDT (default: all).",
        show_default=False)] = None,
    data_dir: DirOpt = None,
    days: Annotated[bool, typer.Option("--days", help="One line per file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Every entry, as JSON.")] = False,
) -> None:
    """What is downloaded: symbols, kinds, days, sizes and message counts."""
    import json

    import msgspec
    from rich.table import Table

    from hayate.cli.app import err, out
    from hayate_bybit.history.catalog import Catalog
    from hayate_bybit.history.layout import day_ranges, days_between
    from hayate_bybit.history.rules import load_rules

    directory = _data_dir(data_dir)
    catalog = Catalog.open(directory)
    if catalog.rebuilt:
        err.print(f"{directory}/index.json was missing: rebuilt from the files on disk "
                  "(run `hayate data verify` to count their messages)", markup=False)
    _require_downloaded(catalog, datasets)
    entries = _select(catalog, datasets)
    if as_json:
        out.print(json.dumps([{"path": k, **msgspec.to_builtins(e)} for k, e in entries.items()],
                             indent=2), markup=False)
        return
    if not entries:
        err.print(f"nothing downloaded in {directory}; try: hayate data download bybit "
                  "--symbols BTCUSDT --from YYYY-MM-DD", markup=False)
        return
    out.print(f"data directory: {directory}", markup=False)
    if days:
        table = Table()
        for col in ("dataset", "kind", "day", "depth", "size", "messages", "verified"):
            table.add_column(col, justify="right" if col in ("size", "messages") else "left")
        for e in entries.values():
            table.add_row(f"bybit/{e.category}/{e.symbol}", e.kind, e.day,
                          str(e.depth or ""), _size(e.size),
                          f"{e.messages:,}" if e.messages is not None else "?",
                          "yes" if e.verified else "no")
        _print_table(out, table)
        return
    groups: dict[tuple[str, str, str], list[Entry]] = {}
    for e in entries.values():
        groups.setdefault((e.category, e.symbol, e.kind), []).append(e)
    table = Table()
    for col in ("dataset", "kind", "days", "from", "to", "gaps", "depth", "size", "messages",
                "rules"):
        table.add_column(col, justify="right" if col in ("days", "size", "messages") else "left")
    for (category, symbol, kind), es in sorted(groups.items()):
        on = sorted({e.on for e in es})
        gaps = sorted(set(days_between(on[0], on[-1])) - set(on))
        counts = [e.messages for e in es if e.messages is not None]
        messages = "?" if not counts else f"{sum(counts):,}" + ("+?" if len(counts) < len(es)
                                                                 else "")
        depths = sorted({e.depth for e in es if e.depth})
        saved = load_rules(directory, category, symbol)  # type: ignore[arg-type]
        table.add_row(f"bybit/{category}/{symbol}", kind, str(len(on)), on[0].isoformat(),
                      on[-1].isoformat(), day_ranges(gaps) or "-",
                      ",".join(str(d) for d in depths) or "-",
                      _size(sum(e.size for e in es)), messages,
                      f"saved {saved.fetched[:10]}" if saved else "inferred")
    _print_table(out, table)


def _print_table(out: Any, table: Any) -> None:
    if out.is_terminal:
        out.print(table)
        return
    # Piped or logged, a table keeps its full width rather than the default 80 columns.
    from rich.console import Console

    Console(file=out.file, width=200, highlight=False, color_system=None).print(table)


# -- verify -----------------------------------------------------------------------------------


def verify_data(
    datasets: Annotated[list[str] | None, typer.Argument(
        help="Datasets to check (default: all).", show_default=False)] = None,
    data_dir: DirOpt = None,
    delete: Annotated[bool, typer.Option(
        "--delete", help="Delete the files found damaged.")] = False,
) -> None:
    """Read every catalogued file end to end: damaged ones leave the catalog, files on disk
    that are whole but not catalogued join it, and message counts are filled in."""
    import time

    from hayate.cli.app import EXIT_FAILURE, err, out
    from hayate_bybit.history.catalog import Catalog
    from hayate_bybit.history.dataset import download_command
    from hayate_bybit.history.integrity import CorruptArchive, check_archive
    from hayate_bybit.history.layout import DatasetName

    directory = _data_dir(data_dir)
    catalog = Catalog.open(directory)
    for key, e in catalog.scan().items():  # whole files a killed run did not catalogue
        catalog.entries.setdefault(key, e)
    _require_downloaded(catalog, datasets)
    entries = _select(catalog, datasets)
    started = time.monotonic()
    bad: list[tuple[str, Entry, str]] = []
    checked = 0
    total = 0
    with _Meter(err, sum(e.size for e in entries.values())) as meter:
        for key, e in entries.items():
            path = catalog.path(key)
            meter.next(key, e.size)
            if not path.is_file():
                bad.append((key, e, "the file is gone"))
                catalog.remove(key)
                continue
            try:
                messages = check_archive(path, e.kind)  # type: ignore[arg-type]
            except CorruptArchive as x:
                bad.append((key, e, str(x)))
                catalog.remove(key)
                if delete:
                    path.unlink(missing_ok=True)
                continue
            checked += 1
            size = path.stat().st_size
            total += size
            if not e.verified or e.messages != messages or e.size != size:
                catalog.put(key, type(e)(**{**_fields(e), "messages": messages, "size": size,
                                            "verified": True}))
    catalog.save()
    seconds = time.monotonic() - started
    out.print(f"{checked} files whole ({_size(total)} read in {seconds:.1f}s), {len(bad)} "
              f"damaged or gone, in {directory}", markup=False)
    for key, e, why in bad:
        name = DatasetName(e.category, e.symbol)  # type: ignore[arg-type]
        cmd = download_command(name, e.on, e.on, [e.kind])  # type: ignore[list-item]
        err.print(f"[bold red]damaged:[/] {key}: {why}; left the catalog"
                  f"{' and was deleted' if delete else ''}; fetch it again with: {cmd}",
                  markup=True, highlight=False)
    if bad:
        raise typer.Exit(EXIT_FAILURE)


class _Meter:
    """A transient bar over the bytes to read, on a terminal only."""

    def __init__(self, console: Any, total: int) -> None:
        self.progress: Any = None
        if console.is_terminal:
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     DownloadColumn(), console=console, transient=True)
            self.task = self.progress.add_task("verifying", total=total)
        self.pending = 0

    def __enter__(self) -> _Meter:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def next(self, name: str, size: int) -> None:
        """``name`` is read now; the file before it is done."""
        if self.progress is not None:
            self.progress.update(self.task, advance=self.pending, description=name)
        self.pending = size


def _fields(e: Any) -> dict[str, Any]:
    return {f: getattr(e, f) for f in e.__struct_fields__}


# -- rm ---------------------------------------------------------------------------------------


def remove_data(
    dataset: Annotated[str, typer.Argument(help="e.g. bybit/linear/BTCUSDT.")],
    from_: Annotated[str | None, typer.Option("--from", help="First day to remove.",
                                              show_default=False)] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day to remove.",
                                           show_default=False)] = None,
    kind: Annotated[str, typer.Option(help="book, trades or both.")] = "both",
    data_dir: DirOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
) -> None:
    """Delete downloaded files (and their catalog entries) of a dataset."""
    from hayate.cli.app import err, fail_config, out
    from hayate.exceptions import ConfigError
    from hayate_bybit.history.catalog import Catalog
    from hayate_bybit.history.fetch import part_path
    from hayate_bybit.history.layout import DatasetName
    from hayate_bybit.history.rules import rules_path

    try:
        name = DatasetName.parse(dataset)
    except ConfigError as problem:
        fail_config(str(problem))
        return
    start = _day(from_, "--from") if from_ else None
    end = _day(to, "--to") if to else None
    if start is not None and end is not None and start > end:
        fail_config(f"--from {start} is after --to {end}")
    directory = _data_dir(data_dir)
    catalog = Catalog.open(directory)
    _require_downloaded(catalog, [dataset])
    chosen = _select(catalog, [dataset], start, end, _kinds(kind))
    if not chosen:
        err.print(f"nothing of {name} to remove in {directory}", markup=False)
        return
    freed = 0
    for key, e in chosen.items():
        path = catalog.path(key)
        freed += e.size
        if dry_run:
            out.print(f"would remove {path}", markup=False)
            continue
        path.unlink(missing_ok=True)
        part_path(path).unlink(missing_ok=True)
        catalog.remove(key)
    if dry_run:
        return
    catalog.save()
    left = _select(catalog, [dataset])
    if not left:
        rules_path(directory, name.category, name.symbol).unlink(missing_ok=True)
        folder = name.folder(directory)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    out.print(f"removed {len(chosen)} file{'s' if len(chosen) != 1 else ''} of {name} "
              f"({_size(freed)}); {len(left)} left", markup=False)
