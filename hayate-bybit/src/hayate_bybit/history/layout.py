"""Where Bybit publishes its daily history files, and where they go on disk.

Bybit's public archives (no key needed), one file per symbol and UTC day:

- derivatives trades: ``{trades host}/trading/{SYMBOL}/{SYMBOL}{YYYY-MM-DD}.csv.gz``
- spot trades: ``{trades host}/spot/{SYMBOL}/{SYMBOL}_{YYYY-MM-DD}.csv.gz``
- order book (a snapshot, then deltas, one JSON message per line, zipped):
  ``{book host}/orderbook/{linear|spot}/{SYMBOL}/{YYYY-MM-DD}_{SYMBOL}_ob{DEPTH}.data.zip``

with the trades host ``https://public.bybit.com`` and the book host
``https://quote-saver.bycsi.com``. Every folder has an HTML directory listing.

Locally a file keeps Bybit's name, under ``{data dir}/bybit/{category}/{SYMBOL}/``, so a
dataset ``bybit/linear/BTCUSDT`` is that folder and every file still replays by path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from hayate.exceptions import ConfigError

__all__ = [
    "BOOK_HOST",
    "CATEGORIES",
    "KINDS",
    "TRADES_HOST",
    "VENUE",
    "ArchiveFile",
    "ArchiveHosts",
    "Category",
    "DatasetName",
    "Kind",
    "category_folder",
    "check_category",
    "check_symbol",
    "day_ranges",
    "days_between",
    "folder",
    "parse_archive_name",
]

Kind = Literal["book", "trades"]
Category = Literal["linear", "spot"]
KINDS: tuple[Kind, ...] = ("book", "trades")
CATEGORIES: tuple[Category, ...] = ("linear", "spot")
VENUE = "bybit"
TRADES_HOST = "https://public.bybit.com"
BOOK_HOST = "https://quote-saver.bycsi.com"

# Bybit symbols are upper-case letters and digits (dated contracts add a dash). Anything
# else would also be a path outside the data directory: refused, not escaped.
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}")
_DAY = r"(\d{4}-\d{2}-\d{2})"


def check_symbol(text: str) -> str:
    """``text`` upper-cased if it can be a Bybit symbol; else a :class:`ConfigError`."""
    symbol = text.strip().upper()
    if not _SYMBOL.fullmatch(symbol):
        raise ConfigError(f"{text!r} is not a Bybit symbol (letters and digits, e.g. BTCUSDT)")
    return symbol


def check_category(text: str) -> Category:
    category = text.strip().lower()
    if category not in CATEGORIES:
        raise ConfigError(f"category {text!r}: Bybit's archives hold "
                          f"{' and '.join(CATEGORIES)} data")
    return category  # narrowed by the membership test


@dataclass(frozen=True)
class ArchiveHosts:
    """The two hosts of the archive; a mirror may serve both trees from one root."""

    trades: str = TRADES_HOST
    book: str = BOOK_HOST

    @classmethod
    def mirror(cls, base: str) -> ArchiveHosts:
        """One root serving ``trading/``, ``spot/`` and ``orderbook/`` (``--base-url``)."""
        return cls(trades=base, book=base)

    def root(self, kind: Kind) -> str:
        return (self.book if kind == "book" else self.trades).rstrip("/")


def folder(category: Category, kind: Kind, symbol: str) -> str:
    """The archive folder of one symbol's files, relative to its host, ending in ``/``."""
    return f"{category_folder(category, kind)}{symbol}/"


def category_folder(category: Category, kind: Kind) -> str:
    """The archive folder listing every symbol of a category and kind."""
    if kind == "book":
        return f"orderbook/{category}/"
    return "trading/" if category == "linear" else "spot/"


@dataclass(frozen=True, order=True)
class ArchiveFile:
    """One daily file of the archive."""

    day: date
    category: Category
    symbol: str
    kind: Kind
    depth: int | None = None  # order books only: 200, 500...

    @property
    def name(self) -> str:
        d = self.day.isoformat()
        if self.kind == "book":
            return f"{d}_{self.symbol}_ob{self.depth}.data.zip"
        if self.category == "spot":
            return f"{self.symbol}_{d}.csv.gz"
        return f"{self.symbol}{d}.csv.gz"

    def url(self, hosts: ArchiveHosts) -> str:
        return f"{hosts.root(self.kind)}/{folder(self.category, self.kind, self.symbol)}{self.name}"

    @property
    def relpath(self) -> str:
        """The path under the data directory (forward slashes: the catalog's key)."""
        return f"{VENUE}/{self.category}/{self.symbol}/{self.name}"

    def local_path(self, data_dir: Path) -> Path:
        return data_dir / VENUE / self.category / self.symbol / self.name

    def label(self) -> str:
        depth = f" ob{self.depth}" if self.kind == "book" else ""
        return f"{self.symbol} {self.day.isoformat()} {self.kind}{depth}"


def parse_archive_name(category: Category, symbol: str, name: str) -> ArchiveFile | None:
    """The file a listed (or local) name stands for, or None for anything else."""
    s = re.escape(symbol)
    m = re.fullmatch(_DAY + rf"_{s}_ob(\d{{1,5}})\.data\.zip", name)
    if m:
        day = _day(m.group(1))
        return ArchiveFile(day, category, symbol, "book", int(m.group(2))) if day else None
    sep = "_" if category == "spot" else ""
    m = re.fullmatch(rf"{s}{sep}" + _DAY + r"\.csv\.gz", name)
    if m:
        day = _day(m.group(1))
        return ArchiveFile(day, category, symbol, "trades") if day else None
    return None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class DatasetName:
    """``bybit/{category}/{SYMBOL}``: one symbol's downloaded history."""

    category: Category
    symbol: str
    venue: str = VENUE

    @classmethod
    def parse(cls, text: str) -> DatasetName:
        parts = text.strip().strip("/").split("/")
        if len(parts) != 3:
            raise ConfigError(f"dataset {text!r}: expected venue/category/SYMBOL, "
                              "e.g. 'bybit/linear/BTCUSDT'")
        venue, category, symbol = parts
        if venue.lower() != VENUE:
            raise ConfigError(f"dataset {text!r}: only '{VENUE}' datasets are known here")
        return cls(check_category(category), check_symbol(symbol))

    def __str__(self) -> str:
        return f"{self.venue}/{self.category}/{self.symbol}"

    def folder(self, data_dir: Path) -> Path:
        return data_dir / self.venue / self.category / self.symbol


def days_between(start: date, end: date) -> Iterator[date]:
    """Every day from ``start`` to ``end``, both included."""
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def day_ranges(days: Iterable[date]) -> str:
    """``2024-05-01..2024-05-03, 2024-05-07``: consecutive days folded into ranges."""
    out: list[str] = []
    run: list[date] = []
    for d in sorted(set(days)):
        if run and d != run[-1] + timedelta(days=1):
            out.append(_fold(run))
            run = []
        run.append(d)
    if run:
        out.append(_fold(run))
    return ", ".join(out)


def _fold(run: list[date]) -> str:
    if len(run) == 1:
        return run[0].isoformat()
    return f"{run[0].isoformat()}..{run[-1].isoformat()} ({len(run)} days)"
