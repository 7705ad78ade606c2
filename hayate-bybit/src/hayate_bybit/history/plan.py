"""Which archive files a request needs, and for every day that has none, why.

With the folder's listing the answer is exact: a day before the first listed one was
never published, a day after the last one is not published yet, a day missing in
between is a gap in Bybit's archive, and a day whose book exists only at another depth
says which. Without a listing (a mirror that serves none) every day is tried, the book
at each known depth in turn.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from hayate_bybit.history.layout import ArchiveFile, Category, Kind, day_ranges, days_between
from hayate_bybit.history.listing import Listing

__all__ = ["BOOK_DEPTHS", "Missing", "SeriesPlan", "plan_series"]

# Depths Bybit has published, tried in this order when there is no listing: 200 since
# 2025-08 for linear (500 before), 200 for spot.
BOOK_DEPTHS = (200, 500)


@dataclass(frozen=True)
class Missing:
    """A day with no file to fetch, and why (a sentence a user can act on)."""

    day: date
    why: str


@dataclass
class SeriesPlan:
    """One symbol and kind over the requested days."""

    category: Category
    symbol: str
    kind: Kind
    listed: bool
    # per day, the file(s) to try in order: one with a listing, each depth without
    files: dict[date, list[ArchiveFile]] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.kind}"

    def explain_missing(self) -> list[str]:
        """One line per reason: ``2024-05-04..2024-05-06 (3 days): not published yet``."""
        by_why: dict[str, list[date]] = defaultdict(list)
        for m in self.missing:
            by_why[m.why].append(m.day)
        return [f"{self.label}: {day_ranges(days)}: {why}" for why, days in by_why.items()]


def plan_series(
    listing: Listing | None,
    category: Category,
    symbol: str,
    kind: Kind,
    start: date,
    end: date,
    depth: int | None = None,
) -> SeriesPlan:
    """The files of ``symbol``/``kind`` from ``start`` to ``end`` (both included).

    ``depth`` (books only) asks for one depth; None takes what the day has, the deepest
    if it has several.
    """
    plan = SeriesPlan(category, symbol, kind, listed=listing is not None)
    for day in days_between(start, end):
        if listing is None:
            depths: tuple[int | None, ...] = ((depth,) if depth else BOOK_DEPTHS) \
                if kind == "book" else (None,)
            plan.files[day] = [ArchiveFile(day, category, symbol, kind, d) for d in depths]
            continue
        listed = listing.files.get(day)
        if not listed:
            plan.missing.append(Missing(day, _why_absent(listing, day)))
            continue
        if kind != "book":
            plan.files[day] = [listed[0]]
            continue
        have = listing.depths(day)
        if depth is not None and depth not in have:
            plan.missing.append(Missing(day, f"only {', '.join(f'ob{d}' for d in have)} "
                                             "that day (leave --depth out to take it)"))
            continue
        pick = depth if depth is not None else max(have)
        plan.files[day] = [f for f in listed if f.depth == pick]
    return plan


def _why_absent(listing: Listing, day: date) -> str:
    first, last = listing.first, listing.last
    if first is None or last is None:
        return "Bybit's listing of this folder is empty"
    if day < first:
        return f"before the first day Bybit published ({first.isoformat()})"
    if day > last:
        return f"not published yet (the listing ends at {last.isoformat()})"
    return "not in Bybit's listing (a gap in the archive)"
