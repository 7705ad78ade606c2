"""``download``: Bybit's public archives fetched from a local mirror of their exact layout.

The mirror (:class:`ArchiveServer`, 127.0.0.1 only) serves files re-packed from the real
recordings we ship, with Bybit's folder listings, byte ranges and injected faults.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hayate_bybit.history.catalog import Catalog
from hayate_bybit.history.download import (
    DownloadReport,
    DownloadRequest,
    FileOutcome,
    UnknownSymbols,
    download,
)
from hayate_bybit.history.layout import ArchiveFile, ArchiveHosts
from hayate_bybit.history.rules import load_rules
from hayate_bybit.testing.archive_samples import sample_archive, sample_instruments
from hayate_bybit.testing.archive_server import ArchiveServer

pytestmark = pytest.mark.anyio

SPOT_BOOK = "orderbook/spot/BTCUSDT/2026-08-09_BTCUSDT_ob200.data.zip"
SPOT_BOOK_2 = "orderbook/spot/BTCUSDT/2026-08-10_BTCUSDT_ob200.data.zip"
SPOT_TRADES = "spot/BTCUSDT/BTCUSDT_2026-08-09.csv.gz"
XRP = "orderbook/linear/XRPUSDT/{}_XRPUSDT_ob{}.data.zip"


@functools.cache
def archive_files() -> dict[str, bytes]:
    return sample_archive()


@pytest.fixture
def archive() -> Iterator[ArchiveServer]:
    with ArchiveServer(archive_files(), instruments=sample_instruments()) as server:
        yield server


class Recorder:
    """What the command line would show, recorded."""

    def __init__(self) -> None:
        self.files = 0
        self.planned_bytes: int | None = None
        self.bytes_seen = 0
        self.outcomes: list[FileOutcome] = []

    def planned(self, files: int, total_bytes: int | None) -> None:
        self.files = files
        self.planned_bytes = total_bytes

    def started(self, f: ArchiveFile, total: int | None, have: int) -> None:
        pass

    def advanced(self, f: ArchiveFile, n: int) -> None:
        self.bytes_seen += n

    def finished(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)


async def fetch(server: ArchiveServer, data_dir: Path, category: str, symbols: str,
                start: str, end: str, kinds: tuple[str, ...] = ("book", "trades"),
                **options: Any) -> DownloadReport:
    request = DownloadRequest(category, tuple(symbols.split(",")), kinds,  # type: ignore[arg-type]
                              date.fromisoformat(start), date.fromisoformat(end),
                              options.pop("depth", None))
    options.setdefault("rest_url", server.base_url)
    options.setdefault("backoff_base", 0.01)
    return await download(request, data_dir, hosts=ArchiveHosts.mirror(server.base_url),
                          **options)


def local(data_dir: Path, archive_path: str) -> Path:
    """Where an archive path lands under the data directory."""
    parts = archive_path.split("/")
    name, symbol = parts[-1], parts[-2]
    category = "linear" if parts[0] == "trading" else ("spot" if parts[0] == "spot"
                                                       else parts[1])
    return data_dir / "bybit" / category / symbol / name


def leftovers(data_dir: Path) -> list[Path]:
    """Partial files left behind."""
    return list(data_dir.rglob("*.part"))


def statuses(report: DownloadReport) -> dict[str, str]:
    return {o.file.name: o.status for o in report.outcomes}


async def test_a_range_is_downloaded_whole_and_catalogued(archive: ArchiveServer,
                                                          tmp_path: Path) -> None:
    progress = Recorder()
    report = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-10",
                         progress=progress)
    assert sorted(statuses(report).values()) == ["downloaded"] * 4
    served = {p: b for p, b in archive.files.items() if p.startswith(("orderbook/spot/",
                                                                      "spot/BTCUSDT/"))}
    assert len(served) == 4
    for path, data in served.items():
        assert local(tmp_path, path).read_bytes() == data  # byte for byte
    # The bar knows the total before the first byte (HEAD), and counts every byte.
    total = sum(len(b) for b in served.values())
    assert progress.files == 4 and progress.planned_bytes == total
    assert progress.bytes_seen == total == report.bytes_downloaded
    assert [o.status for o in progress.outcomes] == ["downloaded"] * 4
    catalog = Catalog.open(tmp_path)
    entries = {k.rsplit("/", 1)[1]: e for k, e in catalog.entries.items()}
    book = entries["2026-08-09_BTCUSDT_ob200.data.zip"]
    assert (book.kind, book.depth, book.verified, book.messages) == ("book", 200, True, 300)
    trades = entries["BTCUSDT_2026-08-09.csv.gz"]
    assert (trades.kind, trades.messages, trades.size) == (
        "trades", 11, len(archive.files[SPOT_TRADES]))
    assert trades.source == f"{archive.base_url}/{SPOT_TRADES}"
    rules = load_rules(tmp_path, "spot", "BTCUSDT")
    assert rules is not None and rules.info == sample_instruments()["spot"][0]
    assert "saved to" in report.rules["BTCUSDT"]

    # The same request again costs two listings and no file.
    before = len(archive.requests)
    again = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-10",
                        rest_url=None)
    assert sorted(statuses(again).values()) == ["present"] * 4
    assert [r.path for r in archive.requests[before:]] == ["orderbook/spot/BTCUSDT/",
                                                           "spot/BTCUSDT/"]


async def test_a_cut_connection_resumes_where_it_stopped(archive: ArchiveServer,
                                                         tmp_path: Path) -> None:
    archive.cut_after(SPOT_BOOK, 5000)
    report = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09",
                         kinds=("book",))
    assert statuses(report) == {"2026-08-09_BTCUSDT_ob200.data.zip": "downloaded"}
    gets = archive.gets(SPOT_BOOK)
    assert [(g.range_start, g.status) for g in gets] == [(None, 200), (5000, 206)]
    assert local(tmp_path, SPOT_BOOK).read_bytes() == archive.files[SPOT_BOOK]
    assert not leftovers(tmp_path)


async def test_a_part_left_by_an_interrupted_run_is_resumed(archive: ArchiveServer,
                                                            tmp_path: Path) -> None:
    target = local(tmp_path, SPOT_BOOK)
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".part").write_bytes(archive.files[SPOT_BOOK][:7000])
    report = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09",
                         kinds=("book",))
    (outcome,) = report.outcomes
    assert outcome.status == "downloaded" and outcome.resumed_from == 7000
    assert [g.range_start for g in archive.gets(SPOT_BOOK)] == [7000]
    assert target.read_bytes() == archive.files[SPOT_BOOK]
    assert report.bytes_downloaded == len(archive.files[SPOT_BOOK]) - 7000


async def test_a_mirror_that_ignores_range_starts_the_part_over(tmp_path: Path) -> None:
    """A 200 with the whole file to a Range request: the part is rewritten from byte 0 and
    the report says nothing was resumed (all the bytes came this time)."""
    with ArchiveServer(archive_files(), instruments=sample_instruments(),
                       ranges=False) as mirror:
        target = local(tmp_path, SPOT_BOOK)
        target.parent.mkdir(parents=True)
        target.with_name(target.name + ".part").write_bytes(mirror.files[SPOT_BOOK][:7000])
        report = await fetch(mirror, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09",
                             kinds=("book",))
        assert [(g.range_start, g.status) for g in mirror.gets(SPOT_BOOK)] == [(None, 200)]
    (outcome,) = report.outcomes
    assert outcome.status == "downloaded" and outcome.resumed_from == 0
    assert target.read_bytes() == mirror.files[SPOT_BOOK]
    assert report.bytes_downloaded == len(mirror.files[SPOT_BOOK])


async def test_a_corrupt_zip_is_fetched_again(archive: ArchiveServer, tmp_path: Path) -> None:
    archive.corrupt(SPOT_BOOK, times=1)
    report = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09",
                         kinds=("book",))
    assert statuses(report) == {"2026-08-09_BTCUSDT_ob200.data.zip": "downloaded"}
    assert [(g.range_start, g.status) for g in archive.gets(SPOT_BOOK)] == [(None, 200),
                                                                           (None, 200)]
    assert local(tmp_path, SPOT_BOOK).read_bytes() == archive.files[SPOT_BOOK]


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
async def test_an_archive_never_whole_is_never_catalogued(archive: ArchiveServer, tmp_path: Path,
                                                          damage: str) -> None:
    if damage == "corrupt":
        archive.corrupt(SPOT_BOOK, times=100)
    else:  # the mirror itself holds a cut file (its length announced truthfully)
        archive.files[SPOT_BOOK] = archive.files[SPOT_BOOK][:-100]
    report = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-10",
                         kinds=("book",), retries=2)
    assert statuses(report) == {"2026-08-09_BTCUSDT_ob200.data.zip": "failed",
                                "2026-08-10_BTCUSDT_ob200.data.zip": "downloaded"}
    (failed,) = report.of("failed")
    assert "corrupt" in failed.detail
    assert len(archive.gets(SPOT_BOOK)) == 3  # the first try and two retries
    assert not local(tmp_path, SPOT_BOOK).exists()
    assert not leftovers(tmp_path)
    keys = set(Catalog.open(tmp_path).entries)
    assert keys == {"bybit/spot/BTCUSDT/2026-08-10_BTCUSDT_ob200.data.zip"}


async def test_a_listed_day_the_server_cannot_serve(archive: ArchiveServer,
                                                    tmp_path: Path) -> None:
    archive.fail(SPOT_BOOK, 404, times=10)
    report = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-10",
                         kinds=("book",))
    (failed,) = report.of("failed")
    assert failed.file.day == date(2026, 8, 9)
    assert "listed by Bybit but not found" in failed.detail and "404" in failed.detail
    assert len(archive.gets(SPOT_BOOK)) == 1  # a 404 is an answer, not retried
    assert statuses(report)["2026-08-10_BTCUSDT_ob200.data.zip"] == "downloaded"


async def test_server_errors_are_retried(archive: ArchiveServer, tmp_path: Path) -> None:
    archive.fail(SPOT_TRADES, 503, times=2)
    report = await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09",
                         kinds=("trades",))
    assert statuses(report) == {"BTCUSDT_2026-08-09.csv.gz": "downloaded"}
    assert [g.status for g in archive.gets(SPOT_TRADES)] == [503, 503, 200]


async def test_the_listing_says_why_a_day_has_no_file(archive: ArchiveServer,
                                                      tmp_path: Path) -> None:
    # XRPUSDT's listing: 2024-11-30..2024-12-02 at depth 500, no 2024-12-03, then
    # 2024-12-04 at depth 200 (the listing stops before --to).
    report = await fetch(archive, tmp_path, "linear", "XRPUSDT", "2024-11-28", "2024-12-06",
                         kinds=("book",))
    assert statuses(report) == {
        "2024-11-30_XRPUSDT_ob500.data.zip": "downloaded",
        "2024-12-01_XRPUSDT_ob500.data.zip": "downloaded",
        "2024-12-02_XRPUSDT_ob500.data.zip": "downloaded",
        "2024-12-04_XRPUSDT_ob200.data.zip": "downloaded"}
    assert report.missing_lines() == [
        "XRPUSDT book: 2024-11-28..2024-11-29 (2 days): before the first day Bybit published "
        "(2024-11-30)",
        "XRPUSDT book: 2024-12-03: not in Bybit's listing (a gap in the archive)",
        "XRPUSDT book: 2024-12-05..2024-12-06 (2 days): not published yet (the listing ends "
        "at 2024-12-04)"]
    files = {r.path for r in archive.requests if r.method == "GET"}
    assert files == {"orderbook/linear/XRPUSDT/", "v5/market/instruments-info",
                     *(XRP.format(d, n) for d, n in (("2024-11-30", 500), ("2024-12-01", 500),
                                                     ("2024-12-02", 500), ("2024-12-04", 200)))}


async def test_a_depth_the_day_does_not_have(archive: ArchiveServer, tmp_path: Path) -> None:
    report = await fetch(archive, tmp_path, "linear", "XRPUSDT", "2024-12-02", "2024-12-04",
                         kinds=("book",), depth=500)
    assert statuses(report) == {"2024-12-02_XRPUSDT_ob500.data.zip": "downloaded"}
    assert report.missing_lines()[-1] == (
        "XRPUSDT book: 2024-12-04: only ob200 that day (leave --depth out to take it)")


async def test_an_unknown_symbol_names_a_close_match(archive: ArchiveServer,
                                                     tmp_path: Path) -> None:
    with pytest.raises(UnknownSymbols, match=r"does not list XRPUSDX \(did you mean XRPUSDT\?\)"):
        await fetch(archive, tmp_path, "linear", "XRPUSDX", "2024-12-01", "2024-12-01",
                    kinds=("book",))
    assert not [r for r in archive.requests if r.path.endswith(".zip")]
    assert not tmp_path.joinpath("index.json").exists()


async def test_a_symbol_without_one_kind(archive: ArchiveServer, tmp_path: Path) -> None:
    report = await fetch(archive, tmp_path, "linear", "XRPUSDT", "2024-12-01", "2024-12-01")
    assert statuses(report) == {"2024-12-01_XRPUSDT_ob500.data.zip": "downloaded"}
    assert report.missing_lines() == [
        "XRPUSDT trades: 2024-12-01: Bybit publishes no trades archive for XRPUSDT (linear)"]


async def test_a_mirror_without_listings_is_tried_day_by_day(tmp_path: Path) -> None:
    with ArchiveServer(archive_files(), listings=False) as server:
        report = await fetch(server, tmp_path, "linear", "XRPUSDT", "2024-12-03", "2024-12-04",
                             kinds=("book",), rest_url=None)
        assert statuses(report) == {"2024-12-03_XRPUSDT_ob200.data.zip": "absent",
                                    "2024-12-04_XRPUSDT_ob200.data.zip": "downloaded"}
        assert "HTTP 404" in report.missing_lines()[0]
        tried = [r.path for r in server.requests if "2024-12-03" in r.path]
        assert tried == [XRP.format("2024-12-03", 200), XRP.format("2024-12-03", 500)]


@pytest.mark.parametrize("jobs", [1, 3])
async def test_downloads_run_in_parallel_up_to_jobs(archive: ArchiveServer, tmp_path: Path,
                                                    jobs: int) -> None:
    if jobs > 1:
        archive.hold_until_concurrent(jobs)  # each file waits until `jobs` are in flight
    report = await fetch(archive, tmp_path, "linear", "XRPUSDT", "2024-11-30", "2024-12-04",
                         kinds=("book",), jobs=jobs)
    assert len(report.of("downloaded")) == 4
    assert archive.max_in_flight == jobs


async def test_rules_the_api_does_not_have(archive: ArchiveServer, tmp_path: Path) -> None:
    archive.instruments["linear"] = []  # delisted since
    report = await fetch(archive, tmp_path, "linear", "XRPUSDT", "2024-12-01", "2024-12-01",
                         kinds=("book",))
    assert report.rules["XRPUSDT"].startswith("not saved: Bybit no longer lists XRPUSDT")
    del archive.instruments["linear"]  # the endpoint refuses the category
    report = await fetch(archive, tmp_path / "b", "linear", "XRPUSDT", "2024-12-01",
                         "2024-12-01", kinds=("book",))
    assert report.rules["XRPUSDT"].startswith("not saved: instruments-info unreachable")
    assert report.of("downloaded") and load_rules(tmp_path / "b", "linear", "XRPUSDT") is None


async def test_the_index_lists_what_is_whole(archive: ArchiveServer, tmp_path: Path) -> None:
    await fetch(archive, tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09")
    doc = json.loads((tmp_path / "index.json").read_text())
    assert doc["format"] == "hayate.data.index" and doc["version"] == 1
    assert sorted(doc["files"]) == ["bybit/spot/BTCUSDT/2026-08-09_BTCUSDT_ob200.data.zip",
                                    "bybit/spot/BTCUSDT/BTCUSDT_2026-08-09.csv.gz"]
