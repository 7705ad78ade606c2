"""What a ``bybit.replay`` will deliver, told at check time from the spec and file headers.

Trading rules come, as at run time, from the spec's ``instruments`` table first, then from
each recording's header. Only the first line of each file is read: rules inferred from the
data (Bybit history files without rules) need a scan, so they stay unknown until the run,
and so do the symbols of files without a header. A file that is not there is not a
problem here: the run says so at start-up, on the machine where it runs (a sweep's worker
may hold data its driver does not).
"""

from __future__ import annotations

import zipfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from hayate.exceptions import ConfigError
from hayate.instruments import Instrument
from hayate.spec.preview import SourcePreview, SpecCheck
from hayate_bybit.recording.samples import SAMPLES, resolve_path
from hayate_bybit.recording.sources import sniff
from hayate_bybit.schemas.market import instrument_from_info

if TYPE_CHECKING:
    from hayate_bybit.collectors.replay import BybitReplayConfig

__all__ = ["preview_replay"]

_UNREADABLE = (OSError, EOFError, ValueError, zipfile.BadZipFile, msgspec.MsgspecError)


def preview_replay(c: BybitReplayConfig, check: SpecCheck) -> SourcePreview:
    rules: dict[str, Instrument] = {}
    in_files: set[str] | None = set()  # None: some file cannot tell before the run
    for i, name in enumerate(c.path):
        try:
            path = resolve_path(name)
        except ConfigError as e:
            check.problem(("path", i), str(e), choices=[f"sample:{s}" for s in sorted(SAMPLES)])
            in_files = None
            continue
        if not path.is_file():
            in_files = None
            continue
        try:
            stat = path.stat()
            read = _header(str(path), stat.st_mtime_ns, stat.st_size)
        except ConfigError as e:
            check.problem(("path", i), str(e))
            in_files = None
            continue
        except _UNREADABLE as e:
            check.problem(("path", i), f"cannot read {path}: {type(e).__name__}: {e}")
            in_files = None
            continue
        if read is None:
            in_files = None
            continue
        symbols, found = read
        for inst in found:
            rules.setdefault(inst.symbol, inst)
        if in_files is not None:
            in_files |= symbols
    for sym, r in c.instruments.items():  # the spec's rules win, as at run time
        rules[sym] = Instrument(symbol=sym, category=c.category, venue="bybit",
                                tick_size=r.tick_size, qty_step=r.qty_step, min_qty=r.min_qty,
                                min_notional=r.min_notional)
    delivered = in_files
    if c.symbols:
        if in_files is not None:
            for j, sym in enumerate(c.symbols):
                if sym not in in_files:
                    check.problem(("symbols", j), f"{sym!r} is not in the replayed file(s), "
                                  "so nothing would be replayed for it",
                                  choices=sorted(in_files))
        delivered = set(c.symbols) if in_files is None else set(c.symbols) & in_files
    return SourcePreview(
        None if delivered is None else frozenset(delivered),
        tuple(inst for sym, inst in rules.items() if delivered is None or sym in delivered))


@lru_cache(maxsize=256)
def _header(path: str, mtime_ns: int, size: int
            ) -> tuple[frozenset[str], tuple[Instrument, ...]] | None:
    """(symbols, instruments) of a recording's header, None for a file without one. Cached
    by path and modification: a sweep checks the same files once per combination."""
    _, header, _ = sniff(Path(path))
    if header is None:
        return None
    found = tuple(instrument_from_info(raw, header.category) for raw in header.instruments)
    return frozenset(header.symbols) | {i.symbol for i in found}, found
