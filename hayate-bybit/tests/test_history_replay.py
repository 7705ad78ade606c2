"""``bybit.replay`` by dataset name: downloaded days, merged in time order, with their rules."""

from __future__ import annotations

import functools
import json
import logging
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate.events import BookSnapshot, Event, Side, Trade
from hayate.exceptions import SpecError
from hayate_bybit.history.download import DownloadRequest, download
from hayate_bybit.history.layout import ArchiveHosts
from hayate_bybit.testing import TrueBook, reference
from hayate_bybit.testing.archive_samples import (
    sample_archive,
    sample_instruments,
    spot_book_lines,
    spot_trades,
)
from hayate_bybit.testing.archive_server import ArchiveServer
from hayate_testing import make_plugins, run_spec_dict

PLUGINS = ["hayate_bybit.plugin"]  # with hayate_testing's, which make_plugins always adds


@functools.cache
def archive_files() -> dict[str, bytes]:
    return sample_archive()


def fetch(data_dir: Path, category: str, symbol: str, start: str, end: str,
          kinds: tuple[str, ...] = ("book", "trades"), *, rules: bool = True,
          instruments: dict[str, list[dict[str, Any]]] | None = None) -> None:
    with ArchiveServer(archive_files(), instruments=instruments or sample_instruments()) as srv:
        request = DownloadRequest(category, (symbol,), kinds,  # type: ignore[arg-type]
                                  date.fromisoformat(start), date.fromisoformat(end))
        report = anyio.run(functools.partial(
            download, request, data_dir, hosts=ArchiveHosts.mirror(srv.base_url),
            rest_url=srv.base_url if rules else None, backoff_base=0.01))
    assert not report.of("failed")


def spec(data_dir: Path, **collector: Any) -> dict[str, Any]:
    return {
        "spec_version": 1, "name": "history",
        "collectors": {"market": {"type": "bybit.replay", "data_dir": str(data_dir),
                                  **collector}},
        "states": {"journal": {"type": "testing.journal", "sources": ["market"]},
                   "books": {"type": "core.orderbook", "sources": ["market"]}},
    }


def run(data_dir: Path, **collector: Any) -> tuple[Any, Any, list[Event]]:
    result, runtime = run_spec_dict(spec(data_dir, **collector), make_plugins(PLUGINS))
    assert result.exit_code == 0, result.exit_reason
    events = [e for _, e in runtime.components["journal"].entries if isinstance(e, Event)]
    return result, runtime, events


def test_book_and_trades_of_a_range_replay_merged_in_time_order(tmp_path: Path) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-10")
    result, runtime, events = run(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"},
                                  to="2026-08-10", kinds=["book", "trades"])
    assert [Path(p).name for p in result.summary["replay_files"]] == [
        "2026-08-09_BTCUSDT_ob200.data.zip", "2026-08-10_BTCUSDT_ob200.data.zip",
        "BTCUSDT_2026-08-09.csv.gz", "BTCUSDT_2026-08-10.csv.gz"]
    recv = [e.recv_ts for e in events]
    assert recv == sorted(recv)  # one stream, in time order
    inst = runtime.ctx.instruments["BTCUSDT"]
    trades = [e for e in events if isinstance(e, Trade)]
    expected = spot_trades(0) + spot_trades(1)
    assert [(t.ts, t.price, t.qty, t.side) for t in trades] == [
        (x["T"] * 1_000_000, inst.price_units(x["p"]), inst.qty_units(x["v"]),
         Side.BUY if x["S"] == "Buy" else Side.SELL) for x in expected]
    # The trades of each day arrive among that day's book updates, not after them.
    day2 = (date(2026, 8, 10) - date(1970, 1, 1)).days
    first_book_day2 = next(i for i, e in enumerate(events) if isinstance(e, BookSnapshot)
                           and e.ts // 86_400_000_000_000 == day2)
    trade_positions = [i for i, e in enumerate(events) if isinstance(e, Trade)]
    assert trade_positions[0] > 0 and trade_positions[10] < first_book_day2 < trade_positions[11]
    assert sum(isinstance(e, BookSnapshot) for e in events) == 2  # each day opens with one
    # The book at the end is day 2's true book.
    truth = TrueBook("BTCUSDT")
    for line in spot_book_lines(1):
        msg = json.loads(line)
        truth.apply(msg["data"], msg["type"] == "snapshot")
    bids, asks = reference(truth, inst)
    book = runtime.components["books"].book("BTCUSDT")
    assert book.valid and book.bids == bids and book.asks == asks


def test_rules_come_from_the_saved_snapshot(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                            ) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09")
    with caplog.at_level(logging.WARNING):
        _, runtime, _ = run(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"})
    inst = runtime.ctx.instruments["BTCUSDT"]
    # Bybit's rules (the data alone would say tick 0.1: every price seen ends in .x)
    assert (str(inst.tick_size), str(inst.qty_step), inst.min_notional) == ("0.01", "0.000001", 5)
    assert "decimal grid" not in caplog.text


def test_without_rules_the_grid_is_inferred_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09", rules=False)
    with caplog.at_level(logging.WARNING):
        _, runtime, _ = run(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"})
    assert str(runtime.ctx.instruments["BTCUSDT"].tick_size) == "0.1"
    assert "no trading rules saved with bybit/spot/BTCUSDT" in caplog.text
    # rules in the spec win
    _, runtime, _ = run(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"},
                        instruments={"BTCUSDT": {"tick_size": "0.01", "qty_step": "0.000001"}})
    assert str(runtime.ctx.instruments["BTCUSDT"].tick_size) == "0.01"


def test_rules_coarser_than_the_data_give_way_to_its_grid(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Today's linear BTCUSDT steps by 0.001; the sample's trades have six decimals.
    fetch(tmp_path, "linear", "BTCUSDT", "2026-08-09", "2026-08-09", kinds=("trades",))
    with caplog.at_level(logging.WARNING):
        result, runtime, events = run(tmp_path, dataset="bybit/linear/BTCUSDT",
                                      **{"from": "2026-08-09"}, kinds=["trades"])
    inst = runtime.ctx.instruments["BTCUSDT"]
    assert str(inst.tick_size) == "0.10" and str(inst.qty_step) == "0.000001"
    assert "finer prices or sizes than the rules" in caplog.text
    trades = [e for e in events if isinstance(e, Trade)]
    assert len(trades) == 11 and not result.summary["counters"].get("csv_rows_malformed")
    # the derivatives file lists the newest trade first: replayed oldest first
    assert [t.ts for t in trades] == sorted(t.ts for t in trades)
    assert trades[0].ts == spot_trades(0)[0]["T"] * 1_000_000


def test_the_book_depth_of_each_day(tmp_path: Path) -> None:
    fetch(tmp_path, "linear", "XRPUSDT", "2024-12-01", "2024-12-04", kinds=("book",))
    result, _, events = run(tmp_path, dataset="bybit/linear/XRPUSDT",
                            **{"from": "2024-12-01"}, to="2024-12-02", kinds=["book"])
    assert [Path(p).name for p in result.summary["replay_files"]] == [
        "2024-12-01_XRPUSDT_ob500.data.zip", "2024-12-02_XRPUSDT_ob500.data.zip"]
    assert sum(isinstance(e, BookSnapshot) for e in events) == 2
    result, _, _ = run(tmp_path, dataset="bybit/linear/XRPUSDT", **{"from": "2024-12-04"},
                       kinds=["book"], depth=200)
    assert result.summary["replay_lines"] == 50
    with pytest.raises(SpecError) as e:
        run(tmp_path, dataset="bybit/linear/XRPUSDT", **{"from": "2024-12-01"}, kinds=["book"],
            depth=200)
    assert "no book at depth 200 for 2024-12-01" in str(e.value)
    assert "--depth 200" in str(e.value)


def test_a_missing_day_names_the_command_that_fetches_it(tmp_path: Path) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09", kinds=("book",))
    with pytest.raises(SpecError) as e:
        run(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"}, to="2026-08-10")
    (problem,) = e.value.problems
    assert problem.key_path == "collectors.market.dataset[0]"
    assert problem.message == (
        f"bybit/spot/BTCUSDT: no book for 2026-08-10; no trades for 2026-08-09..2026-08-10 "
        f"(2 days) in {tmp_path}")
    assert problem.hint == (
        f"fetch with: hayate data download bybit --category spot --symbols BTCUSDT "
        f"--from 2026-08-09 --to 2026-08-10 --kind both --dir {tmp_path}")


def test_a_misspelt_dataset_names_the_close_match(tmp_path: Path) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09", kinds=("book",))
    with pytest.raises(SpecError) as e:
        run(tmp_path, dataset="bybit/spot/BTCUSTD", **{"from": "2026-08-09"}, kinds=["book"])
    (problem,) = e.value.problems
    assert problem.message.startswith(
        f"bybit/spot/BTCUSTD is not downloaded in {tmp_path} (did you mean bybit/spot/BTCUSDT?)"
        "; downloaded: bybit/spot/BTCUSDT; bybit/spot/BTCUSTD: no book for 2026-08-09"), problem


def test_the_saved_rules_and_symbols_are_known_at_check_time(tmp_path: Path) -> None:
    """A strategy's symbol and order size are checked against the dataset before the run."""
    from hayate.spec.loader import parse_spec

    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09")
    plugins = make_plugins([*PLUGINS, "hayate_strategies.plugin", "hayate_paper.plugin"])
    raw = spec(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"})
    raw["strategies"] = {"mm": {"type": "mm.simple", "inputs": ["market"], "symbol": "BTCUSDT",
                                "order_qty": "0.001", "spread_bps": 2}}
    raw["executors"] = {"venue": {"type": "paper.exchange", "source": "market",
                                  "balances": {"USDT": "10000", "BTC": "0.05"}}}
    parse_spec(raw, plugins.registry, file="x.toml")  # fine
    raw["strategies"]["mm"].update(symbol="ETHUSDT")
    with pytest.raises(SpecError, match="no input of this strategy delivers 'ETHUSDT'"):
        parse_spec(raw, plugins.registry, file="x.toml")
    raw["strategies"]["mm"].update(symbol="BTCUSDT", order_qty="0.0000005")
    with pytest.raises(SpecError, match=r"rules from collectors\.market"):
        parse_spec(raw, plugins.registry, file="x.toml")


def test_a_file_gone_from_the_disk_is_a_missing_day(tmp_path: Path) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09", kinds=("book",))
    (tmp_path / "bybit/spot/BTCUSDT/2026-08-09_BTCUSDT_ob200.data.zip").unlink()
    with pytest.raises(SpecError, match="no book for 2026-08-09"):
        run(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"}, kinds=["book"])


def test_a_lost_index_is_rebuilt_from_the_files(tmp_path: Path) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-09")
    (tmp_path / "index.json").unlink()
    result, _, events = run(tmp_path, dataset="bybit/spot/BTCUSDT", **{"from": "2026-08-09"})
    assert len(result.summary["replay_files"]) == 2 and events
    assert (tmp_path / "index.json").is_file()


@pytest.mark.parametrize(("collector", "message"), [
    ({}, "give path (files) or dataset"),
    ({"path": "x.jsonl", "dataset": "bybit/spot/BTCUSDT", "from": "2026-08-09"}, "not both"),
    ({"dataset": "bybit/spot/BTCUSDT"}, "a dataset needs 'from'"),
    ({"dataset": "bybit/spot/BTCUSDT", "from": "2026-08-10", "to": "2026-08-09"},
     "'from' (2026-08-10) is after 'to'"),
    ({"dataset": "bybit/futures/BTCUSDT", "from": "2026-08-09"}, "linear and spot"),
    ({"dataset": "bybit/spot/BTCUSDT", "from": "2026-08-09", "kinds": ["quotes"]}, "kinds"),
])
def test_spec_mistakes(tmp_path: Path, collector: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(tmp_path, **collector)


# -- through the paper exchange -----------------------------------------------------------------


def paper_spec(data_dir: Path, kinds: list[str]) -> dict[str, Any]:
    """A bid one tick above the touch of the first BTCUSDT book (65140.40): only the sells
    of the trade file (at 65140.40, through it) can fill it; the book alone never does."""
    return {
        "spec_version": 1, "name": "history-paper", "engine": {"mode": "paper", "seed": 7},
        "collectors": {"market": {"type": "bybit.replay", "data_dir": str(data_dir),
                                  "dataset": "bybit/spot/BTCUSDT", "from": "2026-08-09",
                                  "to": "2026-08-10", "kinds": kinds}},
        # The probe cancels its first bid once acknowledged and leaves the second resting.
        "strategies": {"probe": {"type": "testing.probe", "inputs": ["market"],
                                 "symbol": "BTCUSDT", "price": "65140.41", "qty": "0.001",
                                 "leave_resting": True, "stop_when_done": False}},
        "executors": {"venue": {"type": "paper.exchange", "source": "market",
                                "balances": {"USDT": "10000", "BTC": "0.05"},
                                "latency": {"entry": "10ms", "cancel": "10ms",
                                            "response": "5ms"}}},
    }


def test_a_downloaded_range_through_the_paper_exchange(tmp_path: Path) -> None:
    fetch(tmp_path, "spot", "BTCUSDT", "2026-08-09", "2026-08-10")
    plugins = make_plugins([*PLUGINS, "hayate_paper.plugin"])
    result, _ = run_spec_dict(paper_spec(tmp_path, ["book", "trades"]), plugins,
                              out_dir=tmp_path / "run")
    s = result.summary
    assert result.exit_code == 0 and s["exit_reason"] == "end of data", result.exit_reason
    assert (s["orders"], s["fills"], s["maker_fills"]) == (2, 1, 1)
    (fill,) = [json.loads(x) for x in (tmp_path / "run/fills.jsonl").read_text().splitlines()]
    assert (fill["side"], Decimal(fill["price"]), Decimal(fill["qty"])) == (
        "Buy", Decimal("65140.41"), Decimal("0.001"))
    first_sell = next(t for t in spot_trades(0) if t["S"] == "Sell")
    assert fill["ts"] == first_sell["T"] * 1_000_000  # filled by that trade, at its time
    # Without the trade file nothing trades through the bid: no fill.
    result, _ = run_spec_dict(paper_spec(tmp_path, ["book"]), plugins, out_dir=tmp_path / "r2")
    assert (result.summary["orders"], result.summary["fills"]) == (2, 0)
