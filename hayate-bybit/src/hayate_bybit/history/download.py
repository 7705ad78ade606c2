"""A download request, end to end: listings, plan, parallel fetches, catalog, rules.

1. Each symbol folder's listing is read once per kind. A folder the server does not have
   is looked up in the category's listing: a symbol that is not there is an error (with a
   did-you-mean) before anything is downloaded.
2. :func:`plan_series` turns the listing into the files to fetch and, for every other
   day, the reason there is none.
3. Files already catalogued are skipped; a file on disk but not catalogued (a run killed
   between the rename and the catalog write) is checked and adopted. The rest are
   fetched by ``jobs`` workers (:func:`fetch_archive`: resume, retries, integrity) and
   catalogued one by one as they complete, so an interrupted run keeps what it finished
   and resumes what it did not.
4. The symbols' trading rules are saved beside the data when the REST API answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

import anyio
import anyio.abc
import anyio.to_thread
import httpx

from hayate.exceptions import ConfigError, HayateError
from hayate.plugins.registry import did_you_mean
from hayate.transport import Backoff
from hayate_bybit.history.catalog import Catalog, Entry
from hayate_bybit.history.fetch import FetchFailed, NotFound, OnChunk, OnStart, fetch_archive
from hayate_bybit.history.integrity import CorruptArchive, check_archive
from hayate_bybit.history.layout import (
    ArchiveFile,
    ArchiveHosts,
    Category,
    Kind,
    category_folder,
    folder,
)
from hayate_bybit.history.listing import Listing, parse_listing, parse_symbol_folders
from hayate_bybit.history.plan import Missing, SeriesPlan, plan_series
from hayate_bybit.history.rules import save_rules

__all__ = [
    "DownloadProgress",
    "DownloadReport",
    "DownloadRequest",
    "FileOutcome",
    "UnknownSymbols",
    "download",
]

log = logging.getLogger("hayate_bybit.history.download")

USER_AGENT = "hayate-bybit (history download)"


@dataclass(frozen=True)
class DownloadRequest:
    category: Category
    symbols: tuple[str, ...]
    kinds: tuple[Kind, ...]
    start: date
    end: date
    depth: int | None = None  # books: one depth; None: what each day has (the deepest)

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ConfigError(f"--from {self.start} is after --to {self.end}")
        if not self.symbols:
            raise ConfigError("no symbol to download")
        if not self.kinds:
            raise ConfigError("no kind to download")


class UnknownSymbols(ConfigError):
    """Symbols the archive has no folder for (the message names close matches)."""


Status = Literal["downloaded", "present", "failed", "absent"]


@dataclass
class FileOutcome:
    file: ArchiveFile
    status: Status
    size: int = 0
    messages: int | None = None
    detail: str = ""
    resumed_from: int = 0
    seconds: float = 0.0


@dataclass
class DownloadReport:
    data_dir: Path
    plans: list[SeriesPlan] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)
    rules: dict[str, str] = field(default_factory=dict)  # symbol -> saved path or why not
    seconds: float = 0.0

    def of(self, status: Status) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def bytes_downloaded(self) -> int:
        return sum(o.size - o.resumed_from for o in self.of("downloaded"))

    @property
    def missing(self) -> list[Missing]:
        return [m for p in self.plans for m in p.missing]

    def missing_lines(self) -> list[str]:
        lines = [line for p in self.plans for line in p.explain_missing()]
        lines += [f"{o.file.label()}: {o.detail}" for o in self.of("absent")]
        return lines


class DownloadProgress(Protocol):
    """What the command line shows; the library only reports (it never prints)."""

    def planned(self, files: int, total_bytes: int | None) -> None: ...

    def started(self, f: ArchiveFile, total: int | None, have: int) -> None: ...

    def advanced(self, f: ArchiveFile, n: int) -> None: ...

    def finished(self, outcome: FileOutcome) -> None: ...


async def download(
    request: DownloadRequest,
    data_dir: Path,
    *,
    hosts: ArchiveHosts | None = None,
    rest_url: str | None = None,
    jobs: int = 4,
    retries: int = 5,
    backoff_base: float = 0.5,
    progress: DownloadProgress | None = None,
    client: httpx.AsyncClient | None = None,
) -> DownloadReport:
    """Fetch what ``request`` names into ``data_dir`` and catalogue it.

    Raises :class:`UnknownSymbols` (nothing downloaded) when a symbol has no folder in
    the archive; every other problem is in the report (``failed`` and ``absent``
    outcomes, days missing from the listing, rules not saved).
    """
    if jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    hosts = hosts or ArchiveHosts()
    own = client is None
    if client is None:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=jobs + 2, max_keepalive_connections=jobs + 2))
    started = time.monotonic()
    report = DownloadReport(data_dir=data_dir)
    try:
        listings = await _listings(client, hosts, request, retries)
        for symbol in request.symbols:
            for kind in request.kinds:
                listing = listings[(symbol, kind)]
                if listing is _NO_FOLDER:
                    plan = SeriesPlan(request.category, symbol, kind, listed=True)
                    plan.missing = [Missing(d, f"Bybit publishes no {kind} archive for "
                                               f"{symbol} ({request.category})")
                                    for d in _days(request)]
                else:
                    plan = plan_series(listing, request.category, symbol, kind,
                                       request.start, request.end, request.depth)
                report.plans.append(plan)
        catalog = Catalog.open(data_dir)
        work = [(plan, day, files) for plan in report.plans for day, files in plan.files.items()]
        session = _Session(client, hosts, catalog, report, progress, retries=retries,
                           backoff_base=backoff_base, jobs=jobs)
        await session.run(work)
        if rest_url is not None:
            await _save_rules(client, rest_url, request, data_dir, report)
    finally:
        if own:
            await client.aclose()
    report.seconds = time.monotonic() - started
    return report


def _days(request: DownloadRequest) -> list[date]:
    from hayate_bybit.history.layout import days_between

    return list(days_between(request.start, request.end))


# -- listings -------------------------------------------------------------------------------

_NO_FOLDER = Listing("linear", "", "book")  # sentinel: the category listing lacks the symbol


async def _get_text(client: httpx.AsyncClient, url: str, retries: int) -> str | None:
    """A listing page, or None if the server has no such folder (404/403/410)."""
    backoff = Backoff(0.5, 10.0)
    for attempt in range(retries + 1):
        try:
            r = await client.get(url)
        except httpx.TransportError as e:
            problem = f"{type(e).__name__}: {e}"
        else:
            if r.status_code in (403, 404, 410):
                return None
            if r.status_code == 200:
                return r.text
            problem = f"HTTP {r.status_code}"
            if r.status_code != 429 and r.status_code < 500:
                raise HayateError(f"{url}: {problem}")
        if attempt == retries:
            raise HayateError(f"{url}: {problem} (gave up after {attempt + 1} requests)")
        await anyio.sleep(backoff.next())
    raise AssertionError("unreachable")


async def _listings(
    client: httpx.AsyncClient, hosts: ArchiveHosts, request: DownloadRequest, retries: int
) -> dict[tuple[str, Kind], Listing | None]:
    out: dict[tuple[str, Kind], Listing | None] = {}
    roots: dict[Kind, list[str] | None] = {}
    unknown: list[str] = []
    for symbol in request.symbols:
        for kind in request.kinds:
            page = await _get_text(client, f"{hosts.root(kind)}/"
                                           f"{folder(request.category, kind, symbol)}", retries)
            if page is not None:
                out[(symbol, kind)] = parse_listing(page, request.category, symbol, kind)
                continue
            if kind not in roots:
                root = await _get_text(client, f"{hosts.root(kind)}/"
                                               f"{category_folder(request.category, kind)}",
                                       retries)
                roots[kind] = parse_symbol_folders(root) if root is not None else None
            known = roots[kind]
            if known is None or symbol in known:
                out[(symbol, kind)] = None  # no listing to go by: try each day
            else:
                out[(symbol, kind)] = _NO_FOLDER
    for symbol in request.symbols:
        if all(out[(symbol, k)] is _NO_FOLDER for k in request.kinds):
            known_any = sorted({s for k in request.kinds for s in (roots.get(k) or [])})
            guess = did_you_mean(symbol, known_any)
            unknown.append(f"{symbol}" + (f" (did you mean {guess}?)" if guess else ""))
    if unknown:
        what = " and ".join("order-book" if k == "book" else "trade" for k in request.kinds)
        raise UnknownSymbols(f"Bybit's {request.category} {what} archive does not list "
                             f"{', '.join(unknown)}")
    return out


# -- fetching ------------------------------------------------------------------------------


class _Session:
    def __init__(self, client: httpx.AsyncClient, hosts: ArchiveHosts, catalog: Catalog,
                 report: DownloadReport, progress: DownloadProgress | None, *, retries: int,
                 backoff_base: float, jobs: int) -> None:
        self.client = client
        self.hosts = hosts
        self.catalog = catalog
        self.report = report
        self.progress = progress
        self.retries = retries
        self.backoff_base = backoff_base
        self.jobs = jobs
        self.check_limiter = anyio.CapacityLimiter(2)  # integrity checks: CPU-bound

    async def run(self, work: Sequence[tuple[SeriesPlan, date, list[ArchiveFile]]]) -> None:
        todo: list[tuple[SeriesPlan, list[ArchiveFile]]] = []
        for plan, _day, files in work:
            present = await self._present(files)
            if present is not None:
                self._record(present)
            else:
                todo.append((plan, files))
        if self.progress:
            self.progress.planned(len(todo), await self._sizes([files[0] for _, files in todo]))
        send, receive = anyio.create_memory_object_stream[
            tuple[SeriesPlan, list[ArchiveFile]]](len(todo) or 1)
        for item in todo:
            send.send_nowait(item)
        send.close()
        async with anyio.create_task_group() as tg:
            for _ in range(min(self.jobs, len(todo))):
                tg.start_soon(self._worker, receive.clone())
        receive.close()

    async def _sizes(self, files: list[ArchiveFile]) -> int | None:
        """The bytes still to fetch (HEAD of every file), for the progress bar's ETA;
        None if a server does not say."""
        sizes: list[int | None] = []
        limiter = anyio.CapacityLimiter(max(self.jobs, 4))

        async def head(f: ArchiveFile) -> None:
            async with limiter:
                try:
                    r = await self.client.head(f.url(self.hosts),
                                               headers={"Accept-Encoding": "identity"})
                    length = r.headers.get("content-length") if r.status_code == 200 else None
                    sizes.append(int(length) if length is not None else None)
                except (httpx.HTTPError, ValueError):
                    sizes.append(None)

        async with anyio.create_task_group() as tg:
            for f in files:
                tg.start_soon(head, f)
        if not sizes or any(n is None for n in sizes):
            return None
        return sum(n for n in sizes if n is not None)

    async def _worker(self, receive: anyio.abc.ObjectReceiveStream[
            tuple[SeriesPlan, list[ArchiveFile]]]) -> None:
        async with receive:
            async for plan, files in receive:
                self._record(await self._fetch_day(plan, files))

    def _record(self, outcome: FileOutcome) -> None:
        self.report.outcomes.append(outcome)
        if outcome.status in ("downloaded", "present"):
            f = outcome.file
            entry = self.catalog.entries.get(f.relpath)
            if entry is None or outcome.status == "downloaded" or not entry.verified:
                self.catalog.put(f.relpath, Entry.of(
                    f, size=outcome.size, messages=outcome.messages,
                    verified=outcome.messages is not None, source=f.url(self.hosts)
                    if outcome.status == "downloaded" else (entry.source if entry else "")))
                self.catalog.save()
        if self.progress:
            self.progress.finished(outcome)

    async def _present(self, files: list[ArchiveFile]) -> FileOutcome | None:
        """A file of the day already here (catalogued, or on disk and whole)."""
        for f in files:
            path = f.local_path(self.catalog.data_dir)
            if not path.is_file():
                continue
            size = path.stat().st_size
            entry = self.catalog.entries.get(f.relpath)
            if entry is not None and entry.size == size:
                return FileOutcome(f, "present", size=size, messages=entry.messages,
                                   detail="already downloaded")
            try:
                messages = await anyio.to_thread.run_sync(check_archive, path, f.kind,
                                                          limiter=self.check_limiter)
            except CorruptArchive as e:
                log.warning("%s is on disk but not whole (%s): fetching it again", path, e)
                continue
            return FileOutcome(f, "present", size=size, messages=messages,
                               detail="on disk, checked and catalogued")
        return None

    async def _fetch_day(self, plan: SeriesPlan, files: list[ArchiveFile]) -> FileOutcome:
        not_found: list[str] = []
        for f in files:
            started = time.monotonic()
            url = f.url(self.hosts)
            on_start, on_chunk = _callbacks(self.progress, f)
            try:
                got = await fetch_archive(
                    self.client, url, f.local_path(self.catalog.data_dir), f.kind,
                    retries=self.retries, backoff=Backoff(self.backoff_base, 30.0),
                    on_start=on_start, on_chunk=on_chunk, check_limiter=self.check_limiter)
            except NotFound:
                not_found.append(url)
                continue
            except FetchFailed as e:
                return FileOutcome(f, "failed", detail=str(e),
                                   seconds=time.monotonic() - started)
            return FileOutcome(f, "downloaded", size=got.size, messages=got.messages,
                               resumed_from=got.resumed_from,
                               seconds=time.monotonic() - started)
        f = files[0]
        if plan.listed:
            return FileOutcome(f, "failed", detail=f"listed by Bybit but not found: "
                                                   f"{', '.join(not_found)} (HTTP 404)")
        return FileOutcome(f, "absent", detail="not on the server (HTTP 404; it serves no "
                                               "listing to say why)")


def _callbacks(progress: DownloadProgress | None, f: ArchiveFile
               ) -> tuple[OnStart | None, OnChunk | None]:
    if progress is None:
        return None, None

    def on_start(total: int | None, have: int) -> None:
        progress.started(f, total, have)

    def on_chunk(n: int) -> None:
        progress.advanced(f, n)

    return on_start, on_chunk


# -- rules -----------------------------------------------------------------------------------


async def _save_rules(client: httpx.AsyncClient, rest_url: str, request: DownloadRequest,
                      data_dir: Path, report: DownloadReport) -> None:
    from hayate_bybit.http.instruments import PATH, fetch_category_instruments

    have_data = {o.file.symbol for o in report.outcomes if o.status in ("downloaded", "present")}
    wanted = [s for s in request.symbols if s in have_data]
    if not wanted:
        return
    try:
        with anyio.fail_after(60):
            items = await fetch_category_instruments(client, rest_url, request.category)
    except (HayateError, httpx.HTTPError, TimeoutError, ValueError) as e:
        why = f"instruments-info unreachable ({type(e).__name__}: {e})"
        for s in wanted:
            report.rules[s] = f"not saved: {why}"
        return
    source = f"{rest_url.rstrip('/')}{PATH}?category={request.category}"
    for s in wanted:
        info = items.get(s)
        if info is None:
            report.rules[s] = (f"not saved: Bybit no longer lists {s} ({request.category}); "
                               "a replay infers the price and size grid from the data")
            continue
        path = save_rules(data_dir, request.category, s, info, source)
        report.rules[s] = f"saved to {path}"
