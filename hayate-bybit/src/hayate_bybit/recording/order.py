"""Trade CSVs oldest first, whatever order the file lists them in.

Bybit's trade history files are meant to be read in time order, but a file that lists the
newest trade first (as some exports do) must not be refused or replayed backwards in
time. The order is told from the first rows; a newest-first file is decompressed to a
temporary file (disk, not memory: a day of BTCUSDT is hundreds of MB) and read from its
end, line by line, so memory stays flat. Its progress shows the decompression, which
comes first.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from hayate_bybit.recording.files import ReadPosition, _open, open_lines

__all__ = ["newest_first", "open_trade_lines"]

log = logging.getLogger("hayate_bybit.recording")

_BLOCK = 1 << 20


def newest_first(path: str | Path, time_column: int, sample: int = 200) -> bool:
    """Whether the first ``sample`` rows (after the header) go back in time overall."""
    times: list[Decimal] = []
    lines = open_lines(path)
    next(lines, None)
    for line in lines:
        parts = line.split(",")
        if len(parts) > time_column:
            with contextlib.suppress(InvalidOperation):
                t = Decimal(parts[time_column].strip())
                if t.is_finite():
                    times.append(t)
        if len(times) >= sample:
            break
    return len(times) >= 2 and times[-1] < times[0]


def open_trade_lines(path: str | Path, time_column: int,
                     position: ReadPosition | None = None) -> Iterator[str]:
    """The header, then the rows oldest first (lines without the newline)."""
    if newest_first(path, time_column):
        log.info("%s lists trades newest first: reading it from the end", Path(path).name)
        return _backwards(path, position)
    return open_lines(path, position)


def _backwards(path: str | Path, position: ReadPosition | None) -> Iterator[str]:
    with tempfile.TemporaryFile(prefix="hayate-trades-") as tmp:
        for fh, name in _open(path, position):
            try:
                shutil.copyfileobj(fh, tmp, _BLOCK)
            except (EOFError, gzip.BadGzipFile, zlib.error) as e:
                log.warning("%s ends early (%s): replayed what it holds", name, e)
        tmp.seek(0)
        header = tmp.readline()
        if header.strip():
            yield _text(header)
        yield from _lines_from_end(tmp, tmp.tell())


def _lines_from_end(fh: IO[bytes], start: int) -> Iterator[str]:
    pos = fh.seek(0, 2)
    rest = b""
    while pos > start:
        size = min(_BLOCK, pos - start)
        pos -= size
        fh.seek(pos)
        lines = (fh.read(size) + rest).split(b"\n")
        rest = lines[0]  # the start of a line that began in the block before, unless at start
        for line in reversed(lines[1:]):
            if line.strip():
                yield _text(line)
    if rest.strip():
        yield _text(rest)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\r\n").decode("utf-8", "replace")
