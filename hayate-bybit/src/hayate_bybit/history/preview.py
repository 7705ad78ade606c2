"""What a ``bybit.replay`` of datasets will deliver, told at check time from the catalog.

The symbols are the datasets'; the trading rules are the spec's ``instruments`` table, else
the snapshot saved with the data (as received: checking it against the data's grid needs a
scan, which waits for the run). Every day the catalog does not have is reported here, at
``hayate check`` and before ``hayate run`` starts, with the ``hayate data download`` command
that fetches it. Only ``index.json`` and the rules files are read.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import msgspec

from hayate.instruments import Instrument
from hayate.spec.preview import SourcePreview, SpecCheck
from hayate_bybit.history.catalog import Catalog
from hayate_bybit.history.datadir import resolve_data_dir
from hayate_bybit.history.dataset import MissingData, resolve_dataset
from hayate_bybit.history.layout import DatasetName
from hayate_bybit.history.rules import RulesFile, load_rules

if TYPE_CHECKING:
    from hayate_bybit.collectors.replay import BybitReplayConfig

__all__ = ["preview_datasets"]


def preview_datasets(c: BybitReplayConfig, check: SpecCheck) -> SourcePreview:
    from hayate_bybit.schemas.market import instrument_from_info

    assert c.from_ is not None  # the config's validator saw to it
    data_dir = resolve_data_dir(c.data_dir)
    catalog = Catalog.open(data_dir)
    wanted = set(c.symbols) or None
    symbols: set[str] = set()
    rules: list[Instrument] = []
    for i, text in enumerate(c.dataset):
        name = DatasetName.parse(text)
        if wanted is not None and name.symbol not in wanted:
            check.problem("symbols", f"leaves out the dataset {name}, so nothing of it would "
                          "be replayed", choices=sorted({DatasetName.parse(d).symbol
                                                         for d in c.dataset}))
            continue
        symbols.add(name.symbol)
        saved: RulesFile | None
        try:
            saved = resolve_dataset(name, c.from_, c.to or c.from_, c.kinds, data_dir,
                                    depth=c.depth, catalog=catalog,
                                    explicit_dir=c.data_dir is not None).rules
        except MissingData as e:
            check.problem(("dataset", i), e.what, hint=f"fetch with: {e.command}")
            saved = load_rules(data_dir, name.category, name.symbol)
        own = c.instruments.get(name.symbol)
        if own is not None:  # the spec's rules win, as at run time
            rules.append(Instrument(symbol=name.symbol, category=name.category, venue="bybit",
                                    tick_size=own.tick_size, qty_step=own.qty_step,
                                    min_qty=own.min_qty, min_notional=own.min_notional))
        elif saved is not None:
            # unreadable saved rules: the run infers them and says so
            with contextlib.suppress(ValueError, TypeError, msgspec.ValidationError):
                rules.append(instrument_from_info(saved.info, name.category))
    return SourcePreview(frozenset(symbols), tuple(rules))
