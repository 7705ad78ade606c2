"""``bybit.replay``: recordings and Bybit history files, on the simulated clock."""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hayate.events import Event
from hayate.exceptions import ConfigError
from hayate.instruments import Instrument
from hayate.spec.preview import SourcePreview, SpecCheck
from hayate.transport import LogThrottle
from hayate.types import Collector, CollectorConfig
from hayate_bybit.collectors.replay_preview import preview_replay
from hayate_bybit.config import PublicCategory
from hayate_bybit.recording.infer import infer_instruments
from hayate_bybit.recording.samples import resolve_path
from hayate_bybit.recording.sources import ReplayFile
from hayate_bybit.schemas.market import instrument_from_info

__all__ = ["BybitReplay", "BybitReplayConfig", "InstrumentRules"]


class InstrumentRules(BaseModel):
    """Trading rules for a symbol whose file carries none (Bybit history files)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    tick_size: Decimal = Field(gt=0, description="Price tick, e.g. '0.1'.")
    qty_step: Decimal = Field(gt=0, description="Size step, e.g. '0.001' (spot: basePrecision).")
    min_qty: Decimal = Field(Decimal(0), ge=0, description="Smallest order size.")
    min_notional: Decimal = Field(Decimal(0), ge=0, description="Smallest order value.")


class BybitReplayConfig(CollectorConfig):
    path: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        description=(
            "Files to replay (a string or a list): our recordings (.jsonl, .jsonl.gz), Bybit "
            "history order-book files (.data, .jsonl, .zip), trade-history CSVs (.csv, "
            ".csv.gz), or 'sample:NAME' for a packaged recording. Several files are merged "
            "by time."
        ),
    )
    symbols: list[str] = Field(default_factory=list, description="Only these symbols (all: []).")
    speed: float = Field(0.0, ge=0, description="0: as fast as possible; 1.0: real time.")
    category: PublicCategory = Field("linear", description="Category of files without a header.")
    instruments: dict[str, InstrumentRules] = Field(
        default_factory=dict,
        description="Rules per symbol for files without instruments (they win over inference).",
    )
    infer_rules: bool = Field(
        True, description="Read the decimal grid off the data when no rules are known."
    )
    csv_symbol: str | None = Field(
        None, description="Symbol of a trade CSV without a symbol column (else the file name)."
    )

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class BybitReplay(Collector):
    """Replays Bybit recordings and history files through the live collector's decoder."""

    kind: ClassVar[str] = "bybit.replay"
    Config: ClassVar[type[BybitReplayConfig]] = BybitReplayConfig
    simulated: ClassVar[bool] = True

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.paths: list[Path] = []
        self.files: list[ReplayFile] = []
        self.throttle = LogThrottle(self.log, monotonic_ns=ctx.clock.monotonic)

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        """Symbols and rules from the spec's instruments table and the files' headers."""
        return preview_replay(config, check)

    async def setup(self) -> None:
        c = self.config
        self.paths = [resolve_path(p) for p in c.path]
        missing = [str(p) for p in self.paths if not p.is_file()]
        if missing:
            raise ConfigError(f"no such file: {', '.join(missing)}")
        symbols = set(c.symbols) or None
        self.files = [
            ReplayFile(p, instruments=self.ctx.instruments, symbols=symbols,
                       csv_symbol=c.csv_symbol, count=self.ctx.count, log=self.log,
                       throttle=self.throttle)
            for p in self.paths
        ]
        known: dict[str, Instrument] = {}
        for f in self.files:
            if f.header is not None:
                for raw in f.header.instruments:
                    inst = instrument_from_info(raw, f.header.category)
                    known.setdefault(inst.symbol, inst)
        for sym, rules in c.instruments.items():
            known[sym] = Instrument(symbol=sym, category=c.category, venue="bybit",
                                    tick_size=rules.tick_size, qty_step=rules.qty_step,
                                    min_qty=rules.min_qty, min_notional=rules.min_notional)
        headerless = [f.path for f in self.files if f.header is None or not f.header.instruments]
        if headerless and c.infer_rules:
            for inst in infer_instruments(headerless, category=c.category, symbols=symbols,
                                          csv_symbol=c.csv_symbol):
                if inst.symbol not in known:
                    self.log.warning(
                        "%s: no trading rules given; using the decimal grid of the data "
                        "(tick %s, step %s)", inst.symbol, inst.tick_size, inst.qty_step)
                    known[inst.symbol] = inst
        for inst in known.values():
            if symbols is None or inst.symbol in symbols:
                self.ctx.instruments.add(inst)
        if symbols:
            unknown = sorted(symbols - set(known))
            if unknown:
                raise ConfigError(f"no trading rules for {', '.join(unknown)}: the files do "
                                  "not carry them; set instruments.<SYMBOL> in the spec")

    def events(self) -> Iterator[Event]:
        # Each file counts the events it hands out: one generator less per event.
        streams = [f.events() for f in self.files]
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams, key=lambda ev: ev.recv_ts or ev.ts)

    def progress(self) -> tuple[float, float] | None:
        """(bytes read, bytes in all) over the files, for the progress bar and ETA of
        ``hayate run``; a compressed file counts its compressed bytes."""
        done = total = 0
        for f in self.files:
            try:
                size = os.path.getsize(f.path)
            except OSError:
                continue
            total += size
            pos = f.position.bytes_read()
            if pos is not None:
                done += min(pos, size)
            elif f.position.finished:
                done += size
        return (float(done), float(total)) if total else None

    @property
    def events_out(self) -> int:
        """Events read from the files (with several files, the merge reads one ahead)."""
        return sum(f.events_out for f in self.files)

    def summary(self) -> dict[str, Any]:
        stats: dict[str, int] = {}
        for f in self.files:
            if f.decoder is not None:
                for k, v in f.decoder.stats().items():
                    stats[k] = stats.get(k, 0) + v
        return {
            "replay_files": [str(p) for p in self.paths],
            "replay_lines": sum(f.lines for f in self.files),
            "replay_events": self.events_out,
            "book_sequencing": stats,
        }

