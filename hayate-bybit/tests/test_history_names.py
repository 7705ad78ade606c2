"""Archive names, folder listings and day plans: the parsers a download relies on."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hayate.exceptions import ConfigError
from hayate_bybit.history.layout import (
    ArchiveFile,
    ArchiveHosts,
    DatasetName,
    check_symbol,
    day_ranges,
    parse_archive_name,
)
from hayate_bybit.history.listing import listed_names, parse_listing, parse_symbol_folders
from hayate_bybit.history.plan import plan_series
from hayate_bybit.testing.archive_samples import sample_archive
from hayate_bybit.testing.archive_server import ArchiveServer

symbols = st.from_regex(r"[A-Z][A-Z0-9]{1,11}", fullmatch=True)
days = st.dates(min_value=date(2018, 1, 1), max_value=date(2035, 12, 31))
kinds = st.sampled_from(["book", "trades"])
categories = st.sampled_from(["linear", "spot"])


def test_bybit_names_and_urls() -> None:
    d = date(2024, 5, 1)
    hosts = ArchiveHosts()
    cases = [
        (ArchiveFile(d, "linear", "BTCUSDT", "trades"),
         "https://public.bybit.com/trading/BTCUSDT/BTCUSDT2024-05-01.csv.gz"),
        (ArchiveFile(d, "spot", "BTCUSDT", "trades"),
         "https://public.bybit.com/spot/BTCUSDT/BTCUSDT_2024-05-01.csv.gz"),
        (ArchiveFile(d, "linear", "BTCUSDT", "book", 200),
         "https://quote-saver.bycsi.com/orderbook/linear/BTCUSDT/"
         "2024-05-01_BTCUSDT_ob200.data.zip"),
        (ArchiveFile(d, "spot", "ETHUSDT", "book", 500),
         "https://quote-saver.bycsi.com/orderbook/spot/ETHUSDT/2024-05-01_ETHUSDT_ob500.data.zip"),
    ]
    for f, url in cases:
        assert f.url(hosts) == url
        assert f.relpath == f"bybit/{f.category}/{f.symbol}/{f.name}"
    mirror = ArchiveHosts.mirror("http://127.0.0.1:9/")
    assert cases[0][0].url(mirror) == "http://127.0.0.1:9/trading/BTCUSDT/BTCUSDT2024-05-01.csv.gz"


@given(days, categories, symbols, kinds, st.sampled_from([200, 500, 1000]))
def test_names_parse_back(day: date, category: str, symbol: str, kind: str, depth: int) -> None:
    f = ArchiveFile(day, category, symbol, kind, depth if kind == "book" else None)  # type: ignore[arg-type]
    assert parse_archive_name(category, symbol, f.name) == f  # type: ignore[arg-type]
    # a name of another symbol, another category's trade name, or junk is not this file
    assert parse_archive_name(category, symbol + "X", f.name) is None  # type: ignore[arg-type]
    assert parse_archive_name(category, symbol, f.name + ".part") is None  # type: ignore[arg-type]


def test_other_names_are_not_archives() -> None:
    for name in ("BTCUSDT2024-13-01.csv.gz", "BTCUSDT_2024-05-01.csv.gz", "README.txt",
                 "2024-05-01_BTCUSDT_ob.data.zip", "../BTCUSDT2024-05-01.csv.gz"):
        assert parse_archive_name("linear", "BTCUSDT", name) is None


@pytest.mark.parametrize("bad", ["", "btc/../x", "BTC USDT", "../etc", "A" * 41, "BTC_USDT"])
def test_symbols_that_are_not_symbols(bad: str) -> None:
    with pytest.raises(ConfigError):
        check_symbol(bad)
    assert check_symbol(" btcusdt ") == "BTCUSDT"


def test_dataset_names() -> None:
    assert str(DatasetName.parse("bybit/linear/btcusdt")) == "bybit/linear/BTCUSDT"
    for bad, what in (("bybit/BTCUSDT", "venue/category/SYMBOL"),
                      ("binance/spot/BTCUSDT", "only 'bybit'"),
                      ("bybit/inverse/BTCUSD", "linear and spot"),
                      ("bybit/spot/..", "not a Bybit symbol"),
                      ("bybit/spot/../x", "venue/category/SYMBOL")):
        with pytest.raises(ConfigError, match=what):
            DatasetName.parse(bad)


# -- listings ----------------------------------------------------------------------------------


def _page(style: str, hrefs: list[str]) -> str:
    if style == "pre":
        rows = "\n".join(f'<a href="{html.escape(h)}">{html.escape(h)}</a>    12-Mar-2024 00:10'
                         "    1234" for h in hrefs)
        return f"<html><body><h1>Index of /x/</h1><pre><a href=\"../\">../</a>\n{rows}</pre>"
    if style == "table":
        rows = "".join(f"<tr><td><a class='f' HREF='{html.escape(h)}'>name</a></td></tr>"
                       for h in hrefs)
        return f"<table>{rows}</table>"
    return " ".join(f"<li><a href={h}>x</a>" for h in hrefs)  # unquoted


@given(st.lists(st.tuples(days, st.sampled_from([200, 500])), max_size=20),
       st.sampled_from(["pre", "table", "bare"]),
       st.sampled_from(["", "/orderbook/linear/XRPUSDT/", "https://mirror.example/o/XRPUSDT/"]))
def test_a_listing_is_read_from_its_links_whatever_the_page(
        files: list[tuple[date, int]], style: str, prefix: str) -> None:
    names = [ArchiveFile(d, "linear", "XRPUSDT", "book", n).name for d, n in files]
    hrefs = [prefix + n for n in names] + ["../", "?C=M;O=A", "README.txt",
                                           prefix + "XRPUSDT2024-01-01.csv.gz"]
    listing = parse_listing(_page(style, hrefs), "linear", "XRPUSDT", "book")
    assert {f.name for fs in listing.files.values() for f in fs} == set(names)
    if files:
        assert listing.first == min(d for d, _ in files)
        assert listing.last == max(d for d, _ in files)


def test_links_are_unescaped_and_decoded() -> None:
    page = '<a href="2024-05-01_BTCUSDT_ob200.data.zip?x=1&amp;y=2">a</a><a href="A%2DB/">'
    assert listed_names(page) == ["2024-05-01_BTCUSDT_ob200.data.zip", "A-B/"]


def test_the_mirror_renders_listings_the_parser_reads() -> None:
    with ArchiveServer(sample_archive()) as server:
        trading = server.listing_page("trading/")
        book = server.listing_page("orderbook/linear/XRPUSDT/")
    assert trading is not None and book is not None
    assert parse_symbol_folders(trading) == ["BTCUSDT"]
    listing = parse_listing(book, "linear", "XRPUSDT", "book")
    assert sorted(listing.files) == [date(2024, 11, 30), date(2024, 12, 1), date(2024, 12, 2),
                                     date(2024, 12, 4)]
    assert listing.depths(date(2024, 12, 4)) == [200]


# -- plans -------------------------------------------------------------------------------------


@given(st.sets(days, max_size=15), days, st.integers(0, 20))
def test_a_plan_accounts_for_every_day(listed: set[date], start: date, span: int) -> None:
    """Every requested day is either fetched (it is listed) or missing with a reason."""
    end = start + timedelta(days=span)
    listing = parse_listing(" ".join(f'<a href="{d.isoformat()}_XRPUSDT_ob500.data.zip">'
                                     for d in listed), "linear", "XRPUSDT", "book")
    plan = plan_series(listing, "linear", "XRPUSDT", "book", start, end)
    asked = {start + timedelta(days=i) for i in range(span + 1)}
    assert set(plan.files) == asked & listed
    assert {m.day for m in plan.missing} == asked - listed
    for m in plan.missing:
        if listed and m.day < min(listed):
            assert m.why.startswith("before the first day")
        elif listed and m.day > max(listed):
            assert m.why.startswith("not published yet")


def test_day_ranges() -> None:
    d = date(2024, 5, 1)
    assert day_ranges([d, d + timedelta(days=1), d + timedelta(days=2),
                       d + timedelta(days=5)]) == "2024-05-01..2024-05-03 (3 days), 2024-05-06"
