"""The archive's directory listings: which days (and depths) exist for a symbol.

Both hosts answer a folder URL with an HTML index page whose links name the files (or,
for a category folder, the symbol folders). Only the links are read: any ``href`` in the
page, quoted or not, relative or absolute, with the last path segment taken as the name
and anything that is not an archive name of this symbol ignored. So a change of page
style (a table instead of a ``<pre>`` block, absolute links, extra columns) does not
break it, and neither does a mirror that renders its own index.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import unquote, urlsplit

from hayate_bybit.history.layout import ArchiveFile, Category, Kind, parse_archive_name

__all__ = ["Listing", "listed_names", "parse_listing", "parse_symbol_folders"]

_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)


def listed_names(page: str) -> list[str]:
    """The names an index page links to, in page order, without repeats; a folder keeps
    its trailing ``/``. Parent and self links are left out."""
    seen: dict[str, None] = {}
    for m in _HREF.finditer(page):
        href = html.unescape(next(g for g in m.groups() if g is not None)).strip()
        path = urlsplit(href).path
        if not path:
            continue
        is_folder = path.endswith("/")
        name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
        if name in ("", ".", "..") or "/" in name:
            continue
        seen.setdefault(name + ("/" if is_folder else ""), None)
    return list(seen)


def parse_symbol_folders(page: str) -> list[str]:
    """The symbol folders a category index links to (``BTCUSDT/`` -> ``BTCUSDT``)."""
    return [n[:-1] for n in listed_names(page) if n.endswith("/")]


@dataclass
class Listing:
    """The files of one symbol and kind that a folder index lists, by day."""

    category: Category
    symbol: str
    kind: Kind
    files: dict[date, list[ArchiveFile]] = field(default_factory=dict)

    @property
    def first(self) -> date | None:
        return min(self.files) if self.files else None

    @property
    def last(self) -> date | None:
        return max(self.files) if self.files else None

    def depths(self, day: date) -> list[int]:
        return sorted({f.depth for f in self.files.get(day, []) if f.depth is not None})

    def add(self, files: Iterable[ArchiveFile]) -> None:
        for f in files:
            day = self.files.setdefault(f.day, [])
            if f not in day:
                day.append(f)


def parse_listing(page: str, category: Category, symbol: str, kind: Kind) -> Listing:
    """What a symbol folder's index page lists for ``kind``."""
    listing = Listing(category, symbol, kind)
    for name in listed_names(page):
        f = parse_archive_name(category, symbol, name)
        if f is not None and f.kind == kind:
            listing.add([f])
    return listing
