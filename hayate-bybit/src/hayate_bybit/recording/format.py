"""The recording format: JSON lines, one received frame per line (docs/market-data.md).

Line 1 is a :class:`Header`. Every other line is a :class:`Line`:

- ``{"t": <recv ns>, "frame": "<the frame exactly as received>"}``, or
- ``{"t": <ns>, "event": "connected" | "disconnected" | "sent", "detail": "..."}``.

Frames are kept as the raw text (not re-encoded) so a replay decodes exactly what the
live collector decoded, malformed frames included. A name ending in ``.gz`` is gzip.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any, TextIO

import msgspec

__all__ = ["FORMAT", "VERSION", "Header", "Line", "RecordingWriter"]

FORMAT = "hayate.bybit.recording"
VERSION = 1


class Header(msgspec.Struct, kw_only=True):
    format: str = FORMAT
    version: int = VERSION
    venue: str = "bybit"
    category: str
    symbols: list[str]
    depth: int
    topics: list[str] = []
    url: str = ""
    testnet: bool = False
    started_ns: int = 0
    recorder: str = ""
    instruments: list[dict[str, Any]] = []  # GET /v5/market/instruments-info list items
    note: str = ""


class Line(msgspec.Struct, gc=False, omit_defaults=True):
    t: int
    frame: str | None = None
    event: str = ""
    detail: str = ""


_encode = msgspec.json.Encoder().encode


class RecordingWriter:
    """Appends lines to a recording; gzip when the name ends in ``.gz``.

    Writes are buffered; :meth:`close` (also on Ctrl-C) finishes the gzip stream so the
    file is complete. A file cut short by a crash still replays up to where it stops.
    """

    def __init__(self, path: str | Path, header: Header) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO
        if self.path.name.endswith(".gz"):
            self._fh = io.TextIOWrapper(gzip.open(self.path, "wb", compresslevel=6),  # noqa: SIM115
                                        encoding="utf-8", newline="\n")
        else:
            self._fh = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.frames = 0
        self.bytes = 0
        self._write(_encode(header))

    def _write(self, raw: bytes) -> None:
        text = raw.decode("utf-8")
        self._fh.write(text)
        self._fh.write("\n")
        self.bytes += len(text) + 1

    def frame(self, frame: str | bytes, recv_ns: int) -> None:
        if not isinstance(frame, str):
            frame = bytes(frame).decode("utf-8", "replace")
        self.frames += 1
        self._write(_encode(Line(t=recv_ns, frame=frame)))

    def event(self, kind: str, detail: str, now: int) -> None:
        self._write(_encode({"t": now, "event": kind, "detail": detail}))

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
