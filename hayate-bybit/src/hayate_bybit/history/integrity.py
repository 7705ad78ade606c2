"""Is a downloaded archive whole? Read it end to end and count its messages.

A zip is only readable once its central directory (at the very end) arrived, and every
member's CRC-32 is checked as it is read to the end; a gzip stream carries its own CRC and
length in the trailer. So one pass over the decompressed bytes proves the file is neither
truncated nor corrupt, and counting its lines on the way gives the message count the
catalog shows. The first line must also look like what the name promises (a JSON message,
a trade CSV header): an HTML error page saved under an archive's name is refused too.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from hayate_bybit.history.layout import Kind

__all__ = ["CorruptArchive", "check_archive"]

_CHUNK = 1 << 20


class CorruptArchive(Exception):
    """The file is truncated, corrupt, or not the kind of file its name says."""


def check_archive(path: Path, kind: Kind) -> int:
    """The number of messages in ``path`` (book: lines; trades: rows without the header),
    or :class:`CorruptArchive` saying what is wrong."""
    try:
        if kind == "book":
            return _check_zip(path)
        return _check_gzip(path)
    except CorruptArchive:
        raise
    except (zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, EOFError, OSError) as e:
        raise CorruptArchive(f"{type(e).__name__}: {e}") from None


def _check_zip(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if not members:
            raise CorruptArchive("the zip holds no file")
        lines = 0
        for info in members:
            with zf.open(info) as fh:
                lines += _count_lines(fh.read, _looks_like_json, info.filename)
        return lines


def _check_gzip(path: Path) -> int:
    with gzip.open(path, "rb") as fh:
        lines = _count_lines(fh.read, _looks_like_csv, path.name)
    return max(lines - 1, 0)  # the header


def _count_lines(read: Callable[[int], bytes], looks_right: Callable[[bytes], bool],
                 name: str) -> int:
    first = True
    lines = 0
    last = b"\n"
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        if first:
            first = False
            if not looks_right(chunk):
                raise CorruptArchive(f"{name} does not start like the archive it should be "
                                     f"({bytes(chunk[:40])!r})")
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    if first:
        raise CorruptArchive(f"{name} is empty")
    return lines + (0 if last == b"\n" else 1)


def _looks_like_json(chunk: bytes) -> bool:
    return chunk.lstrip()[:1] == b"{"


def _looks_like_csv(chunk: bytes) -> bool:
    header = chunk.split(b"\n", 1)[0]
    return b"," in header and b"timestamp" in header
