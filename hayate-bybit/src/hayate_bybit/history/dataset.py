"""A dataset name and a date range, resolved to the catalogued files a replay reads.

``bybit/linear/BTCUSDT`` from 2024-05-01 to 2024-05-03 with kinds book and trades is three
order-book files and three trade files, in day order. A day the catalog does not have (or
whose file has gone from the disk) is an error naming every missing day and the exact
``hayate data download`` command that fetches them, so ``hayate check`` says what to run.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hayate.exceptions import ConfigError
from hayate_bybit.history.catalog import Catalog
from hayate_bybit.history.layout import DatasetName, Kind, day_ranges, days_between
from hayate_bybit.history.rules import RulesFile, load_rules

__all__ = ["MissingData", "ResolvedDataset", "download_command", "not_downloaded",
           "resolve_dataset"]


class MissingData(ConfigError):
    """Days of a dataset that are not downloaded: ``what`` is missing, ``command`` fetches it."""

    def __init__(self, what: str, command: str) -> None:
        self.what = what
        self.command = command
        super().__init__(f"{what}; fetch with: {command}")


@dataclass
class ResolvedDataset:
    name: DatasetName
    files: dict[Kind, list[Path]] = field(default_factory=dict)  # each kind in day order
    rules: RulesFile | None = None


def download_command(name: DatasetName, start: date, end: date, kinds: Sequence[Kind],
                     data_dir: Path | None = None) -> str:
    kind = "both" if len(set(kinds)) > 1 else kinds[0]
    cmd = (f"hayate data download bybit --category {name.category} --symbols {name.symbol} "
           f"--from {start.isoformat()} --to {end.isoformat()} --kind {kind}")
    if data_dir is not None:
        cmd += f" --dir {data_dir}"
    return cmd


def not_downloaded(name: DatasetName, catalog: Catalog) -> str | None:
    """Why ``name`` has no file at all in ``catalog`` (what is there, the closest name), or
    None when some day of it is downloaded."""
    known = catalog.datasets()
    if str(name) in known:
        return None
    if not known:
        return f"nothing is downloaded in {catalog.data_dir}"
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.8)
    return (f"{name} is not downloaded in {catalog.data_dir}"
            + (f" (did you mean {close[0]}?)" if close else "")
            + f"; downloaded: {', '.join(known)}")


def resolve_dataset(
    name: DatasetName,
    start: date,
    end: date,
    kinds: Sequence[Kind],
    data_dir: Path,
    *,
    depth: int | None = None,
    catalog: Catalog | None = None,
    explicit_dir: bool = False,
) -> ResolvedDataset:
    """The files of ``name`` from ``start`` to ``end`` (both included) for each kind.

    ``depth`` picks the order-book depth when a day has several (default: the deepest).
    ``explicit_dir``: the directory was given in the spec, so the command in the error
    names it too.
    """
    if start > end:
        raise ConfigError(f"{name}: 'from' ({start}) is after 'to' ({end})")
    catalog = catalog or Catalog.open(data_dir)
    out = ResolvedDataset(name)
    missing: dict[Kind, list[date]] = {}
    for kind in dict.fromkeys(kinds):
        series = catalog.series(name.category, name.symbol, kind)
        paths: list[Path] = []
        for day in days_between(start, end):
            keys = [k for k in series.get(day, []) if catalog.path(k).is_file()]
            if kind == "book" and keys:
                by_depth = {catalog.entries[k].depth or 0: k for k in keys}
                if depth is not None:
                    keys = [by_depth[depth]] if depth in by_depth else []
                else:
                    keys = [by_depth[max(by_depth)]]
            if not keys:
                missing.setdefault(kind, []).append(day)
                continue
            paths.append(catalog.path(keys[0]))
        out.files[kind] = paths
    if missing:
        what = "; ".join(f"no {kind}{f' at depth {depth}' if kind == 'book' and depth else ''}"
                         f" for {day_ranges(days)}" for kind, days in missing.items())
        days = [d for ds in missing.values() for d in ds]
        cmd = download_command(name, min(days), max(days), list(missing),
                               data_dir if explicit_dir else None)
        if depth is not None and "book" in missing:
            cmd += f" --depth {depth}"
        what = f"{name}: {what} in {data_dir}"
        absent = not_downloaded(name, catalog)
        if absent and "did you mean" in absent:  # most likely a typo: say so first
            what = f"{absent}; {what}"
        raise MissingData(what, cmd)
    out.rules = load_rules(data_dir, name.category, name.symbol)
    return out
