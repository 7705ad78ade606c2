"""The shadow tape: everything the twins were fed, so a twin can be run again offline.

``shadow-tape.jsonl.gz`` in the run's ``--out`` directory, one JSON object per line:

- a header first (``"record": "header"``): the journal's run id, the engine seed, the
  instruments, and per twin the executor it shadows, its market-data sources and its
  settings (a run resumed after a crash appends to its tape, starting with a new header);
- ``"record": "market"``: a market event (book snapshot or delta, trade) of a twin's source,
  in the order the bot received it, with its venue time ``ts`` and receive time ``recv_ts``;
- ``"record": "action"``: an action the bot sent to a shadowed executor, with the time it
  was sent (``sent``, ns).

``hayate calibrate`` replays it through candidate paper-exchange settings. The tape holds
the market data of the whole run: on a busy live feed expect a few MB per hour (gzip).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from hayate.actions import AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate.events import BookDelta, BookSnapshot, Trade
from hayate.instruments import Instrument

__all__ = ["TAPE_FILE", "TapeAction", "TapeHeader", "TapeMarket", "TapeWriter", "read_tape",
           "tape_run"]

TAPE_FILE = "shadow-tape.jsonl.gz"
_VERSION = 1
_FLUSH_EVERY = 512


class TapeHeader(msgspec.Struct, tag_field="record", tag="header", kw_only=True):
    version: int = _VERSION
    run_id: int | None = None  # the journal's run (None: no journal)
    seed: int = 0  # [engine] seed: a replay with the twin's settings draws what it drew
    instruments: list[Instrument]
    twins: dict[str, dict[str, Any]]  # twin id -> {"venue", "sources", "settings"}


class TapeMarket(msgspec.Struct, tag_field="record", tag="market", kw_only=True):
    source: str
    event: BookSnapshot | BookDelta | Trade


class TapeAction(msgspec.Struct, tag_field="record", tag="action", kw_only=True):
    venue: str
    sent: int
    action: PlaceOrder | AmendOrder | CancelOrder | CancelAll


Record = TapeHeader | TapeMarket | TapeAction


class TapeWriter:
    """Appends records to the tape, a few hundred lines per write."""

    def __init__(self, path: Path, header: TapeHeader, *, append: bool = False) -> None:
        self.path = path
        self._fh = gzip.open(path, "ab" if append else "wb", compresslevel=4)  # noqa: SIM115
        self._enc = msgspec.json.Encoder()
        self._lines: list[bytes] = []
        self.records = 0
        self.write(header)

    def write(self, record: Record) -> None:
        self._lines.append(self._enc.encode(record))
        self.records += 1
        if len(self._lines) >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._fh.write(b"\n".join(self._lines) + b"\n")
            self._lines.clear()

    def close(self) -> None:
        self.flush()
        self._fh.close()


def tape_run(path: Path) -> int | None:
    """The run id in the header of the tape at ``path`` (None: no tape, or none given)."""
    if not path.exists():
        return None
    head = next(iter(read_tape(path)), None)
    return head.run_id if isinstance(head, TapeHeader) else None


def read_tape(path: Path) -> Iterator[Record]:
    """The records of a tape, header first; a damaged last line (a killed run) ends it."""
    dec = msgspec.json.Decoder(Record)
    with gzip.open(path, "rb") as fh:
        try:
            for line in fh:
                if line.strip():
                    try:
                        yield dec.decode(line)
                    except msgspec.DecodeError:
                        return
        except (EOFError, OSError):
            return  # truncated by a crash: what was written is still good
