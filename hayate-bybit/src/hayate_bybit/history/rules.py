"""The trading rules saved beside a dataset: ``instrument.json``.

Bybit's history files carry prices and sizes but not the instrument's tick, size step or
minimums, which a paper exchange needs to round and refuse orders like Bybit. The
download saves the symbol's ``GET /v5/market/instruments-info`` item, as received, when
the REST API is reachable; a replay by dataset name uses it. The rules are those of the
day of the download: a replay checks them against the data's own decimal grid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from hayate.instruments import Instrument
from hayate_bybit.history.layout import VENUE, Category

__all__ = ["RULES_NAME", "RulesFile", "checked_instrument", "load_rules", "rules_path",
           "save_rules"]

log = logging.getLogger("hayate_bybit.history.rules")

RULES_NAME = "instrument.json"
FORMAT = "hayate.bybit.instrument"


class RulesFile(msgspec.Struct, kw_only=True):
    format: str = FORMAT
    version: int = 1
    category: str
    symbol: str
    fetched: str  # when (UTC, ISO 8601)
    source: str  # the URL it came from
    info: dict[str, Any]  # one GET /v5/market/instruments-info result.list item


def rules_path(data_dir: Path, category: Category, symbol: str) -> Path:
    return data_dir / VENUE / category / symbol / RULES_NAME


def save_rules(data_dir: Path, category: Category, symbol: str, info: dict[str, Any],
               source: str) -> Path:
    path = rules_path(data_dir, category, symbol)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = RulesFile(category=category, symbol=symbol, source=source, info=info,
                    fetched=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(doc)))
    tmp.replace(path)
    return path


def load_rules(data_dir: Path, category: Category, symbol: str) -> RulesFile | None:
    """The saved rules, or None (none saved, or the file is unreadable: logged)."""
    path = rules_path(data_dir, category, symbol)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        doc = msgspec.json.decode(raw, type=RulesFile)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        log.warning("%s is unreadable (%s): ignored", path, e)
        return None
    if doc.format != FORMAT or doc.symbol != symbol or doc.info.get("symbol") != symbol:
        log.warning("%s does not hold %s's rules: ignored", path, symbol)
        return None
    return doc


def checked_instrument(rules: RulesFile, files: Sequence[Path],
                       log: logging.Logger = log) -> Instrument | None:
    """The saved rules as an :class:`Instrument`, checked against the data of ``files``.

    Rules are today's; the data may be years old and finer than today's tick or size step
    (a tick that grew, a step that coarsened). Where the data shows more decimals than the
    rules allow, the data's decimal grid is used instead, with a warning: a price off the
    grid would make every book with it invalid. None if the rules cannot be read.
    """
    from hayate_bybit.recording.infer import infer_instruments
    from hayate_bybit.schemas.market import instrument_from_info

    try:
        inst = instrument_from_info(rules.info, rules.category)
    except (ValueError, TypeError, msgspec.ValidationError) as e:
        log.warning("%s: saved rules unreadable (%s); inferring them from the data",
                    rules.symbol, e)
        return None
    seen = [i for i in infer_instruments(files, category=rules.category,
                                         symbols=[rules.symbol], max_lines=5_000)
            if i.symbol == rules.symbol]
    if not seen:
        return inst
    data = seen[0]
    changes: dict[str, Any] = {}
    if data.price_decimals > inst.price_decimals:
        changes.update(tick_size=data.tick_size, price_decimals=-1)
    if data.qty_decimals > inst.qty_decimals:
        changes.update(qty_step=data.qty_step, qty_decimals=-1)
    if not changes:
        return inst
    log.warning("%s: the data has finer prices or sizes than the rules saved on %s "
                "(tick %s, step %s); replaying on the data's grid (tick %s, step %s)",
                rules.symbol, rules.fetched, inst.tick_size, inst.qty_step,
                changes.get("tick_size", inst.tick_size), changes.get("qty_step", inst.qty_step))
    fields = msgspec.structs.asdict(inst)
    fields.update(changes)
    return Instrument(**fields)
