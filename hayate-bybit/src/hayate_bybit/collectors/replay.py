"""``bybit.replay``: recordings and Bybit history files, on the simulated clock."""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

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

if TYPE_CHECKING:
    from hayate_bybit.history.dataset import ResolvedDataset

__all__ = ["BybitReplay", "BybitReplayConfig", "InstrumentRules"]


class InstrumentRules(BaseModel):
    """Trading rules for a symbol whose file carries none (Bybit history files)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    tick_size: Decimal = Field(gt=0, description="Price tick, e.g. '0.1'.")
    qty_step: Decimal = Field(gt=0, description="Size step, e.g. '0.001' (spot: basePrecision).")
    min_qty: Decimal = Field(Decimal(0), ge=0, description="Smallest order size.")
    min_notional: Decimal = Field(Decimal(0), ge=0, description="Smallest order value.")


def _both_kinds() -> list[Literal["book", "trades"]]:
    return ["book", "trades"]


class BybitReplayConfig(CollectorConfig):
    path: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description=(
            "Files to replay (a string or a list): our recordings (.jsonl, .jsonl.gz), Bybit "
            "history order-book files (.data, .jsonl, .zip), trade-history CSVs (.csv, "
            ".csv.gz), or 'sample:NAME' for a packaged recording. Several files are merged "
            "by time. Give either path or dataset."
        ),
    )
    dataset: list[str] = Field(
        default_factory=list,
        description=(
            "Downloaded history to replay by name (a string or a list), e.g. "
            "'bybit/linear/BTCUSDT' (`hayate data download bybit`), from `from` to `to`; "
            "book and trade files of the same days are merged in time order."
        ),
    )
    from_: date | None = Field(None, alias="from",
                               description="First day (UTC) of a dataset, e.g. '2024-05-01'.")
    to: date | None = Field(None, description="Last day (UTC, included); default: `from`.")
    kinds: list[Literal["book", "trades"]] = Field(
        default_factory=_both_kinds,
        description="What of a dataset to replay: 'book', 'trades' or both.")
    depth: int | None = Field(
        None, ge=1, description="Order-book depth of a dataset when a day has several "
                                "(default: the deepest).")
    data_dir: str | None = Field(
        None, description="Where datasets are (default: $HAYATE_DATA_DIR, else the per-user "
                          "data directory, as for `hayate data`).")
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

    @field_validator("path", "dataset", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("dataset")
    @classmethod
    def _dataset_names(cls, v: list[str]) -> list[str]:
        from hayate_bybit.history.layout import DatasetName

        try:
            return [str(DatasetName.parse(d)) for d in v]
        except ConfigError as e:  # reported as it is, without pydantic's prefix
            raise PydanticCustomError("dataset", "{message}", {"message": str(e)}) from None

    @model_validator(mode="after")
    def _path_or_dataset(self) -> BybitReplayConfig:
        if self.path and self.dataset:
            raise ValueError("give path (files) or dataset (downloaded history), not both")
        if not self.path and not self.dataset:
            raise ValueError("give path (files) or dataset (downloaded history, e.g. "
                             "'bybit/linear/BTCUSDT')")
        if self.dataset:
            if self.from_ is None:
                raise ValueError("a dataset needs 'from' (and 'to'), e.g. from = '2024-05-01'")
            if self.to is not None and self.to < self.from_:
                raise ValueError(f"'from' ({self.from_}) is after 'to' ({self.to})")
            if not self.kinds:
                raise ValueError("kinds is empty: 'book', 'trades' or both")
        return self

    def resolve_datasets(self) -> list[ResolvedDataset]:
        """The files of every dataset over the days asked (a :class:`MissingData` naming
        the download command if any day is not on disk)."""
        # Imported here: the history package is only needed by specs that name a dataset.
        from hayate_bybit.history.datadir import resolve_data_dir
        from hayate_bybit.history.dataset import resolve_dataset
        from hayate_bybit.history.layout import DatasetName

        assert self.from_ is not None
        data_dir = resolve_data_dir(self.data_dir)
        return [resolve_dataset(DatasetName.parse(d), self.from_, self.to or self.from_,
                                self.kinds, data_dir, depth=self.depth,
                                explicit_dir=self.data_dir is not None)
                for d in self.dataset]


class BybitReplay(Collector):
    """Replays Bybit recordings and history files through the live collector's decoder."""

    kind: ClassVar[str] = "bybit.replay"
    Config: ClassVar[type[BybitReplayConfig]] = BybitReplayConfig
    simulated: ClassVar[bool] = True

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.paths: list[Path] = []
        self.files: list[ReplayFile] = []
        # Files read one after another (a dataset's days of one kind); merged by time.
        self.chains: list[list[ReplayFile]] = []
        self.throttle = LogThrottle(self.log, monotonic_ns=ctx.clock.monotonic)

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        """Symbols and rules from the spec's instruments table and the files' headers; for
        datasets, from the catalog (a day not downloaded is a problem naming the command
        that fetches it) and the saved rules."""
        if config.dataset:
            from hayate_bybit.history.preview import preview_datasets

            return preview_datasets(config, check)
        return preview_replay(config, check)

    def _replay_file(self, path: Path, symbols: set[str] | None,
                     csv_symbol: str | None) -> ReplayFile:
        return ReplayFile(path, instruments=self.ctx.instruments, symbols=symbols,
                          csv_symbol=csv_symbol, count=self.ctx.count, log=self.log,
                          throttle=self.throttle)

    async def setup(self) -> None:
        c = self.config
        if c.dataset:
            await self._setup_datasets()
            return
        self.paths = [resolve_path(p) for p in c.path]
        missing = [str(p) for p in self.paths if not p.is_file()]
        if missing:
            raise ConfigError(f"no such file: {', '.join(missing)}")
        symbols = set(c.symbols) or None
        self.files = [self._replay_file(p, symbols, c.csv_symbol) for p in self.paths]
        self.chains = [[f] for f in self.files]
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

    async def _setup_datasets(self) -> None:
        """Files from the catalog; rules from the spec, else the saved snapshot (checked
        against the data), else the data's decimal grid."""
        from hayate_bybit.history.rules import checked_instrument

        c = self.config
        wanted = set(c.symbols) or None
        known: dict[str, Instrument] = {}
        for ds in c.resolve_datasets():
            symbol, category = ds.name.symbol, ds.name.category
            if wanted is not None and symbol not in wanted:
                raise ConfigError(f"symbols = {sorted(wanted)} leaves out the dataset {ds.name}")
            for kind in c.kinds:
                chain = [self._replay_file(p, {symbol}, symbol) for p in ds.files[kind]]
                if chain:
                    self.chains.append(chain)
                    self.files.extend(chain)
                    self.paths.extend(f.path for f in chain)
            firsts = [ds.files[k][0] for k in c.kinds if ds.files[k]]
            rules = c.instruments.get(symbol)
            if rules is not None:
                known[symbol] = Instrument(
                    symbol=symbol, category=category, venue="bybit", tick_size=rules.tick_size,
                    qty_step=rules.qty_step, min_qty=rules.min_qty,
                    min_notional=rules.min_notional)
                continue
            inst = checked_instrument(ds.rules, firsts, self.log) if ds.rules else None
            if inst is None and c.infer_rules:
                inferred = [i for i in infer_instruments(firsts, category=category,
                                                         symbols=[symbol], csv_symbol=symbol)
                            if i.symbol == symbol]
                if inferred:
                    inst = inferred[0]
                    self.log.warning(
                        "%s: no trading rules saved with %s (download them with `hayate data "
                        "download bybit`, or set instruments.%s); using the decimal grid of the "
                        "data (tick %s, step %s)", symbol, ds.name, symbol, inst.tick_size,
                        inst.qty_step)
            if inst is None:
                raise ConfigError(f"no trading rules for {symbol}: none saved with {ds.name} "
                                  f"and none given; set instruments.{symbol} in the spec")
            known[symbol] = inst
        for inst in known.values():
            self.ctx.instruments.add(inst)

    def events(self) -> Iterator[Event]:
        # Each file counts the events it hands out: one generator less per event. The files
        # of a chain open one after another, as the one before ends.
        streams = [chain[0].events() if len(chain) == 1
                   else itertools.chain.from_iterable(f.events() for f in chain)
                   for chain in self.chains]
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
        malformed: dict[str, int] = {}
        for f in self.files:
            if f.decoder is not None:
                for k, v in f.decoder.stats().items():
                    stats[k] = stats.get(k, 0) + v
            for k, v in f.malformed().items():
                malformed[k] = malformed.get(k, 0) + v
        return {
            "replay_files": [str(p) for p in self.paths],
            "replay_lines": sum(f.lines for f in self.files),
            "replay_events": self.events_out,
            "book_sequencing": stats,
            "malformed": dict(sorted(malformed.items())),  # rejected frames/rows by reason
        }

