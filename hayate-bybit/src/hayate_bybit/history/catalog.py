"""The local catalog: ``index.json`` in the data directory, one entry per archive file.

An entry is added only once a file has been checked whole (:mod:`.integrity`), so what
the catalog lists can be replayed. The index is small (a few hundred bytes a file) and
is written atomically (a temporary file renamed over it) under a lock, merging with what
another process wrote meanwhile. If it is missing or unreadable it is rebuilt from the
files on disk; those entries are marked unverified (no message count) until
``hayate data verify`` reads them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec

from hayate_bybit.history.layout import (
    CATEGORIES,
    VENUE,
    ArchiveFile,
    Category,
    Kind,
    parse_archive_name,
)

__all__ = ["INDEX_NAME", "Catalog", "Entry"]

log = logging.getLogger("hayate_bybit.history.catalog")

INDEX_NAME = "index.json"
FORMAT = "hayate.data.index"
VERSION = 1


class Entry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One file of the catalog."""

    venue: str = VENUE
    category: str
    symbol: str
    kind: str
    day: str  # YYYY-MM-DD (UTC)
    depth: int | None = None
    size: int
    messages: int | None = None  # lines (book) or rows (trades); None until verified
    verified: bool = False  # read end to end and found whole
    source: str = ""  # the URL it came from
    added: str = ""  # when it was catalogued (UTC, ISO 8601)

    @classmethod
    def of(cls, f: ArchiveFile, *, size: int, messages: int | None, verified: bool,
           source: str = "") -> Entry:
        return cls(category=f.category, symbol=f.symbol, kind=f.kind, day=f.day.isoformat(),
                   depth=f.depth, size=size, messages=messages, verified=verified,
                   source=source, added=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def on(self) -> date:
        """The day, as a date."""
        return date.fromisoformat(self.day)

    def archive_file(self) -> ArchiveFile:
        return ArchiveFile(self.on, self.category, self.symbol, self.kind,  # type: ignore[arg-type]
                           self.depth)


class _Index(msgspec.Struct, kw_only=True):
    format: str = FORMAT
    version: int = VERSION
    files: dict[str, Entry] = {}


_decode = msgspec.json.Decoder(_Index).decode
_encode = msgspec.json.Encoder().encode


class Catalog:
    """What is in a data directory. Keys are paths relative to it, with ``/``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.entries: dict[str, Entry] = {}
        self._changes: dict[str, Entry | None] = {}
        self.rebuilt = False

    @property
    def index_path(self) -> Path:
        return self.data_dir / INDEX_NAME

    @classmethod
    def open(cls, data_dir: Path) -> Catalog:
        """The catalog of ``data_dir``; the index is rebuilt from the files on disk (and
        saved, if the directory is writable) when it is missing or unreadable. A directory
        that does not exist is an empty catalog (nothing is created)."""
        cat = cls(data_dir)
        index = cat._read()
        if index is None:
            if cat.data_dir.is_dir():
                cat.entries = cat.scan()
                cat.rebuilt = True
                cat._changes = dict(cat.entries)
                try:
                    cat.save()
                except OSError as e:  # a read-only data directory still replays
                    log.warning("%s could not be written (%s): using the rebuilt catalog "
                                "in memory", cat.index_path, e)
        else:
            cat.entries = index.files
        return cat

    def _read(self) -> _Index | None:
        try:
            raw = self.index_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            index = _decode(raw)
        except msgspec.DecodeError as e:
            log.warning("%s is unreadable (%s): rebuilding it from the files", self.index_path, e)
            return None
        if index.format != FORMAT or index.version > VERSION:
            log.warning("%s is not a catalog this version reads: rebuilding it", self.index_path)
            return None
        return index

    def scan(self) -> dict[str, Entry]:
        """Entries for every archive file on disk (unverified, no message count)."""
        found: dict[str, Entry] = {}
        root = self.data_dir / VENUE
        for category in CATEGORIES:
            base = root / category
            if not base.is_dir():
                continue
            for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                for path in sorted(folder.iterdir()):
                    f = parse_archive_name(category, folder.name, path.name)
                    if f is None or not path.is_file():
                        continue
                    found[f.relpath] = Entry.of(f, size=path.stat().st_size, messages=None,
                                                verified=False)
        return found

    # -- changes -----------------------------------------------------------------------------

    def put(self, relpath: str, entry: Entry) -> None:
        self.entries[relpath] = entry
        self._changes[relpath] = entry

    def remove(self, relpath: str) -> None:
        self.entries.pop(relpath, None)
        self._changes[relpath] = None

    def save(self) -> None:
        """Write the changes made here over what is on disk now (another process may have
        added files meanwhile), atomically."""
        if not self._changes:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            disk = self._read()
            files = dict(disk.files) if disk is not None else {}
            for key, entry in self._changes.items():
                if entry is None:
                    files.pop(key, None)
                else:
                    files[key] = entry
            _write_atomically(self.index_path, _encode(_Index(files=dict(sorted(files.items())))))
        self.entries = files
        self._changes = {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # Windows: atomic renames only
            yield
            return
        with open(self.data_dir / ".index.lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- queries -----------------------------------------------------------------------------

    def path(self, relpath: str) -> Path:
        return self.data_dir / relpath

    def series(self, category: Category, symbol: str, kind: Kind) -> dict[date, list[str]]:
        """The catalogued files of one symbol and kind, by day (relative paths)."""
        out: dict[date, list[str]] = {}
        for key, e in self.entries.items():
            if e.venue == VENUE and e.category == category and e.symbol == symbol \
                    and e.kind == kind:
                out.setdefault(e.on, []).append(key)
        return out


    def datasets(self) -> list[str]:
        """The names (``bybit/linear/BTCUSDT``) of every dataset with a catalogued file."""
        return sorted({f"{e.venue}/{e.category}/{e.symbol}" for e in self.entries.values()})


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
