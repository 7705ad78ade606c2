"""``hayate data``: download, list, verify and rm, as a user runs them (against the mirror)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hayate_bybit.data_cli import register_data_commands
from hayate_bybit.history.catalog import Catalog
from hayate_bybit.testing.archive_samples import sample_archive, sample_instruments
from hayate_bybit.testing.archive_server import ArchiveServer

BOOK = "bybit/spot/BTCUSDT/2026-08-09_BTCUSDT_ob200.data.zip"
BOOK_2 = "bybit/spot/BTCUSDT/2026-08-10_BTCUSDT_ob200.data.zip"


@functools.cache
def archive_files() -> dict[str, bytes]:
    return sample_archive()


@pytest.fixture
def archive() -> Iterator[ArchiveServer]:
    with ArchiveServer(archive_files(), instruments=sample_instruments()) as server:
        yield server


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default data directory, as a user sets it."""
    path = tmp_path / "data"
    monkeypatch.setenv("HAYATE_DATA_DIR", str(path))
    return path


def hayate(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    register_data_commands(app)
    result = CliRunner().invoke(app, ["data", *args])
    return result.exit_code, result.output


def get(archive: ArchiveServer, *args: str) -> tuple[int, str]:
    return hayate("download", "bybit", "--base-url", archive.base_url, *args)


def test_download_then_list(archive: ArchiveServer, data_dir: Path) -> None:
    code, out = get(archive, "--category", "spot", "--symbols", "btcusdt", "--from",
                    "2026-08-08", "--to", "2026-08-11")
    assert code == 0, out
    assert "4 files to fetch, 25.8 kB" in out
    assert "BTCUSDT 2026-08-09 book ob200: 12.7 kB, 300 messages" in out
    assert ("missing: BTCUSDT book: 2026-08-08: before the first day Bybit published "
            "(2026-08-09)") in out
    assert ("missing: BTCUSDT trades: 2026-08-11: not published yet (the listing ends at "
            "2026-08-10)") in out
    assert f"rules BTCUSDT: saved to {data_dir}/bybit/spot/BTCUSDT/instrument.json" in out
    assert "4 downloaded (25.8 kB in " in out and f"4 days missing, 0 failed -> {data_dir}" in out

    code, out = hayate("list")
    assert code == 0, out
    rows = [line.split("│")[1:-1] for line in out.splitlines() if "bybit/spot" in line]
    assert [[c.strip() for c in row] for row in rows] == [
        ["bybit/spot/BTCUSDT", "book", "2", "2026-08-09", "2026-08-10", "-", "200", "25.4 kB",
         "600", rows[0][-1].strip()],
        ["bybit/spot/BTCUSDT", "trades", "2", "2026-08-09", "2026-08-10", "-", "-", "392 B",
         "22", rows[1][-1].strip()]]
    assert rows[0][-1].strip().startswith("saved ")

    code, out = hayate("list", "--json", "bybit/spot/BTCUSDT")
    entries = json.loads(out)
    assert [(e["path"], e["messages"], e["verified"]) for e in entries][:2] == [
        (BOOK, 300, True), (BOOK_2, 300, True)]

    code, out = hayate("list", "--days")
    assert code == 0 and out.count("bybit/spot/BTCUSDT") == 4


def test_download_mistakes_are_usage_errors(archive: ArchiveServer, data_dir: Path) -> None:
    code, out = get(archive, "--category", "spot", "--symbols", "BTCUSDX", "--from",
                    "2026-08-09")
    assert code == 2 and "does not list BTCUSDX (did you mean BTCUSDT?)" in out
    code, out = get(archive, "--symbols", "BTCUSDT", "--from", "2026-08-10", "--to",
                    "2026-08-09")
    assert code == 2 and "--from 2026-08-10 is after --to 2026-08-09" in out
    code, out = get(archive, "--symbols", "BTCUSDT", "--from", "yesterday")
    assert code == 2 and "--from 'yesterday' is not a date" in out
    code, out = get(archive, "--symbols", "BTCUSDT", "--from", "2026-08-09", "--kind", "quotes")
    assert code == 2 and "book, trades or both" in out
    code, out = get(archive, "--symbols", "../etc", "--from", "2026-08-09")
    assert code == 2 and "not a Bybit symbol" in out
    for option, url in (("--base-url", "htp://127.0.0.1:9"), ("--trades-url", "localhost:8000"),
                        ("--rest-url", "https://")):
        code, out = hayate("download", "bybit", "--symbols", "BTCUSDT", "--from", "2026-08-09",
                           option, url)
        assert code == 2 and f"{option} {url!r} is not an http(s) URL" in out, out
    assert not data_dir.exists()


def test_nothing_published_and_failures_exit_1(archive: ArchiveServer, data_dir: Path) -> None:
    code, out = get(archive, "--category", "spot", "--symbols", "BTCUSDT", "--from",
                    "2030-01-01")
    assert code == 1 and "nothing to download" in out
    archive.corrupt("orderbook/spot/BTCUSDT/2026-08-09_BTCUSDT_ob200.data.zip", times=10)
    code, out = get(archive, "--category", "spot", "--symbols", "BTCUSDT", "--from",
                    "2026-08-09", "--retries", "1")
    assert code == 1
    assert "failed: BTCUSDT 2026-08-09 book ob200:" in out and "corrupt" in out
    assert set(Catalog.open(data_dir).entries) == {"bybit/spot/BTCUSDT/BTCUSDT_2026-08-09.csv.gz"}


def test_verify_finds_damage_and_download_repairs_it(archive: ArchiveServer,
                                                     data_dir: Path) -> None:
    assert get(archive, "--category", "spot", "--symbols", "BTCUSDT", "--from", "2026-08-09",
               "--to", "2026-08-10")[0] == 0
    code, out = hayate("verify")
    assert code == 0 and "4 files whole" in out
    damaged = data_dir / BOOK
    damaged.write_bytes(damaged.read_bytes()[:-50])  # a disk, a copy, an editor...
    code, out = hayate("verify", "bybit/spot/BTCUSDT")
    assert code == 1
    assert "3 files whole" in out and "1 damaged or gone" in out
    assert (f"damaged: {BOOK}:" in out and "hayate data download bybit --category spot "
            "--symbols BTCUSDT --from 2026-08-09 --to 2026-08-09 --kind book" in out)
    assert BOOK not in Catalog.open(data_dir).entries and damaged.exists()
    before = len(archive.requests)
    code, out = get(archive, "--category", "spot", "--symbols", "BTCUSDT", "--from",
                    "2026-08-09", "--to", "2026-08-10", "--no-rules")
    assert code == 0 and "1 downloaded" in out and "3 already here" in out
    fetched = [r.path for r in archive.requests[before:] if r.method == "GET"
               and not r.path.endswith("/")]
    assert fetched == ["orderbook/spot/BTCUSDT/2026-08-09_BTCUSDT_ob200.data.zip"]
    assert Catalog.open(data_dir).entries[BOOK].verified
    # --delete removes what is damaged
    damaged.write_bytes(b"PK\x03\x04 not a zip")
    code, out = hayate("verify", "--delete")
    assert code == 1 and "was deleted" in out and not damaged.exists()


def test_a_lost_index_is_rebuilt_and_verify_counts_messages(archive: ArchiveServer,
                                                            data_dir: Path) -> None:
    assert get(archive, "--category", "spot", "--symbols", "BTCUSDT", "--from",
               "2026-08-09")[0] == 0
    (data_dir / "index.json").unlink()
    code, out = hayate("list")
    assert code == 0 and "index.json was missing: rebuilt" in out
    entries = Catalog.open(data_dir).entries
    assert set(entries) == {BOOK, "bybit/spot/BTCUSDT/BTCUSDT_2026-08-09.csv.gz"}
    assert all(not e.verified and e.messages is None for e in entries.values())
    code, out = hayate("verify")
    assert code == 0
    entries = Catalog.open(data_dir).entries
    assert [e.messages for e in entries.values()] == [300, 11]
    assert all(e.verified for e in entries.values())


def test_rm(archive: ArchiveServer, data_dir: Path) -> None:
    assert get(archive, "--category", "spot", "--symbols", "BTCUSDT", "--from", "2026-08-09",
               "--to", "2026-08-10")[0] == 0
    code, out = hayate("rm", "bybit/spot/BTCUSDT", "--from", "2026-08-10", "--kind", "book",
                       "--dry-run")
    assert code == 0 and f"would remove {data_dir / BOOK_2}" in out and (data_dir / BOOK_2).exists()
    code, out = hayate("rm", "bybit/spot/BTCUSDT", "--from", "2026-08-10", "--kind", "book")
    assert code == 0 and "removed 1 file of bybit/spot/BTCUSDT (12.7 kB); 3 left" in out
    assert not (data_dir / BOOK_2).exists() and BOOK_2 not in Catalog.open(data_dir).entries
    code, out = hayate("rm", "bybit/spot/BTCUSDT")
    assert code == 0 and "removed 3 files" in out and "0 left" in out
    assert not (data_dir / "bybit/spot/BTCUSDT").exists()  # rules and folder too
    assert Catalog.open(data_dir).entries == {}
    code, out = hayate("rm", "bybit/spot/BTCUSDT")
    assert code == 1 and f"nothing is downloaded in {data_dir}" in out
    assert hayate("rm", "BTCUSDT")[0] == 2


def test_a_dataset_that_is_not_downloaded_is_an_error_with_a_close_match(
        archive: ArchiveServer, data_dir: Path) -> None:
    assert get(archive, "--category", "spot", "--symbols", "BTCUSDT", "--from",
               "2026-08-09")[0] == 0
    for command in ("list", "verify", "rm"):
        code, out = hayate(command, "bybit/spot/BTCUSTD")
        assert code == 1, (command, out)
        assert (f"bybit/spot/BTCUSTD is not downloaded in {data_dir} (did you mean "
                "bybit/spot/BTCUSDT?); downloaded: bybit/spot/BTCUSDT") in out, out
    code, out = hayate("rm", "bybit/spot/BTCUSDT", "--from", "2026-08-10", "--to", "2026-08-09")
    assert code == 2 and "--from 2026-08-10 is after --to 2026-08-09" in out
    assert len(Catalog.open(data_dir).entries) == 2  # nothing was removed


def test_another_venue_shares_the_data_group() -> None:
    app = typer.Typer()
    register_data_commands(app)
    data = next(g.typer_instance for g in app.registered_groups if g.name == "data")
    downloads = next(g.typer_instance for g in data.registered_groups if g.name == "download")

    @downloads.command("othervenue")
    def other() -> None:
        print("other venue")

    register_data_commands(app)  # idempotent: the same groups again, not new ones
    assert [g.name for g in app.registered_groups] == ["data"]
    result = CliRunner().invoke(app, ["data", "download", "othervenue"])
    assert result.exit_code == 0 and "other venue" in result.output
    assert CliRunner().invoke(app, ["data", "download", "--help"]).output.count("bybit") >= 1


def test_the_terminal_progress_bar(archive: ArchiveServer, tmp_path: Path) -> None:
    """On a terminal: one bar over all bytes (with the total from HEAD) and one per file."""
    import io
    from datetime import date

    import anyio
    from rich.console import Console

    from hayate_bybit.data_cli import _RichProgress
    from hayate_bybit.history.download import DownloadRequest, download
    from hayate_bybit.history.layout import ArchiveHosts

    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None,
                      highlight=False)
    progress = _RichProgress(console)
    request = DownloadRequest("spot", ("BTCUSDT",), ("book", "trades"), date(2026, 8, 9),
                              date(2026, 8, 10))
    with progress:
        anyio.run(lambda: download(request, tmp_path, hosts=ArchiveHosts.mirror(
            archive.base_url), progress=progress))
    total = progress.progress.tasks[0]
    assert total.total == total.completed == sum(
        len(b) for p, b in archive.files.items() if "/BTCUSDT/" in p and (
            p.startswith("orderbook/spot") or p.startswith("spot/")))
    assert not progress.tasks  # every file's bar is gone once it finished
    assert "BTCUSDT 2026-08-10 book ob200: 12.7 kB, 300 messages" in console.file.getvalue()
