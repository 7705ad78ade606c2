"""Ranking, heat maps and exports of sweep results, on results written by hand."""

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hayate.sweep.combinations import Combination, combination_id
from hayate.sweep.export import write_csv, write_parquet
from hayate.sweep.heatmap_svg import heat_map_svg
from hayate.sweep.report import color, default_axes, heat_map, rank
from hayate.sweep.store import ResultStore
from hayate.sweep.worker import TaskResult


def fill(store: ResultStore, runs: list[tuple[dict, object, str, dict | None]]) -> None:
    combos = [Combination(combination_id(p, "d", d), i, p, d) for i, (p, d, _, _) in enumerate(runs)]
    store.set_meta({"param_keys": list(runs[0][0])})
    store.plan(combos)
    for c, (_, _, status, summary) in zip(combos, runs, strict=True):
        if status != "pending":
            store.record(TaskResult(c.id, status, None if status == "ok" else "boom", summary,
                                    worker="w:1", seconds=0.5))


def pnl(x: str, **more: object) -> dict:
    return {"net_pnl": x, "fills": 3, "exit_reason": "end of data", **more}


@pytest.fixture
def store(tmp_path: Path):
    s = ResultStore(tmp_path / "sweep.sqlite")
    fill(s, [
        ({"spread": 1, "qty": "0.001"}, 1, "ok", pnl("-10.5")),
        ({"spread": 1, "qty": "0.001"}, 2, "ok", pnl("-9.5")),
        ({"spread": 2, "qty": "0.001"}, 1, "ok", pnl("4")),
        ({"spread": 2, "qty": "0.001"}, 2, "ok", pnl("-2")),
        ({"spread": 1, "qty": "0.01"}, 1, "ok", pnl("0.25")),
        ({"spread": 1, "qty": "0.01"}, 2, "failed", pnl("-99")),
        ({"spread": 2, "qty": "0.01"}, 1, "pending", None),
        ({"spread": 2, "qty": "0.01"}, 2, "pending", None),
    ])
    yield s
    s.close()


def test_rank_by_mean_over_datasets_failures_last(store: ResultStore) -> None:
    ranked = rank(store.rows(), "net_pnl")
    # A set with a failed run ranks after every set whose runs all succeeded.
    assert [(g.params["spread"], g.params["qty"], g.mean) for g in ranked] == [
        (2, "0.001", 1.0), (1, "0.001", -10.0), (1, "0.01", 0.25), (2, "0.01", None)]
    assert (ranked[0].worst, ranked[0].best, ranked[0].ok) == (-2.0, 4.0, 2)
    assert ranked[2].failed == 1 and ranked[2].ok == 1 and ranked[2].note == "1 failed"
    assert [g.mean for g in rank(store.rows(), "net_pnl", descending=False)][:3] == [
        -10.0, 1.0, 0.25]


def test_a_set_without_fills_never_tops_the_ranking(tmp_path: Path) -> None:
    s = ResultStore(tmp_path / "sweep.sqlite")
    fill(s, [
        ({"spread": 50}, 1, "ok", {"net_pnl": "0", "max_drawdown": "0", "fills": 0}),
        ({"spread": 5}, 1, "ok", {"net_pnl": "-3", "max_drawdown": "4", "fills": 40}),
        ({"spread": 9}, 1, "ok", {"net_pnl": "2", "max_drawdown": "1", "fills": 3}),
    ])
    by_pnl = rank(s.rows(), "net_pnl")
    assert [g.params["spread"] for g in by_pnl] == [9, 5, 50] and by_pnl[2].note == "no fill"
    by_dd = rank(s.rows(), "max_drawdown", descending=False)
    assert [g.params["spread"] for g in by_dd] == [9, 5, 50]
    by_min = rank(s.rows(), "net_pnl", min_fills=10)
    assert [g.params["spread"] for g in by_min] == [5, 9, 50]
    assert by_min[1].note == "fewer than 10 fills"
    with pytest.raises(KeyError):
        rank(s.rows(), "pnl")
    s.close()


def test_heat_map_cells_average_everything_else(store: ResultStore) -> None:
    rows = store.rows()
    assert default_axes(rows, ["spread", "qty"]) == ["spread", "qty"]
    hm = heat_map(rows, "net_pnl", "qty", "spread")
    assert hm.xs == ["0.001", "0.01"] and hm.ys == ["1", "2"]
    assert hm.cell(0, 0) == (-10.0, 2)
    assert hm.cell(1, 0) == (0.25, 1)  # the failed run does not count
    assert hm.cell(1, 1) is None  # nothing finished there yet
    assert hm.bounds == (-10.0, 1.0)
    one = heat_map(rows, "net_pnl", "spread", None)
    assert one.ys == [""] and one.cell(0, 0) == ((-10.5 - 9.5 + 0.25) / 3, 3)


def test_many_numeric_values_are_binned(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "sweep.sqlite") as s:
        fill(s, [({"x": i / 10, "y": "a"}, None, "ok", pnl(str(i))) for i in range(100)])
        hm = heat_map(s.rows(), "net_pnl", "x", "y")
    assert len(hm.xs) == 10 and hm.xs[0] == "0-0.99"
    assert sum(n for _, n in hm.cells.values()) == 100
    assert hm.cell(0, 0) == (sum(range(10)) / 10, 10)


def test_colors_losses_red_gains_green() -> None:
    red, white, green = color(-5, -5, 10), color(0, -5, 10), color(10, -5, 10)
    assert red[0] > red[1] and green[1] > green[0] and white == (247, 247, 247)
    assert color(-1, -5, 10)[1] > red[1]  # a small loss is a paler red
    assert color(1, 1, 3)[0] > color(1, 1, 3)[1]  # all gains: the smallest is the worst
    assert color(5, 0, 5, lower_is_better=True)[0] > color(5, 0, 5, lower_is_better=True)[1]


def test_svg_is_self_contained_and_readable(store: ResultStore) -> None:
    hm = heat_map(store.rows(), "net_pnl", "qty", "spread")
    svg = heat_map_svg(hm, title="t <&> net_pnl")
    root = ET.fromstring(svg)  # well-formed XML, title escaped
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "t <&> net_pnl" in texts and "-10.00" in texts and "0.25" in texts and "–" in texts
    assert "href" not in svg and "<script" not in svg


def test_csv_and_parquet_exports(store: ResultStore, tmp_path: Path) -> None:
    assert write_csv(store, tmp_path / "r.csv") == 8
    with (tmp_path / "r.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:5] == ["id", "status", "spread", "qty", "dataset"]
    assert rows[0]["qty"] == "0.001" and rows[0]["net_pnl"] == "-10.5"
    assert rows[5]["status"] == "failed" and rows[5]["error"] == "boom"
    assert rows[6]["status"] == "pending" and rows[6]["net_pnl"] == ""
    import pyarrow.parquet as pq

    assert write_parquet(store, tmp_path / "r.parquet") == 8
    table = pq.read_table(tmp_path / "r.parquet")
    assert str(table.schema.field("spread").type) == "int64"
    assert str(table.schema.field("qty").type) == "string"  # decimal strings stay exact
    assert table.column("net_pnl").to_pylist()[:3] == [-10.5, -9.5, 4.0]
    assert table.column("fills").to_pylist()[6] is None


def test_exact_summary_is_kept(store: ResultStore) -> None:
    row = store.rows()[0]
    assert store.summary_of(row.id) == pnl("-10.5")
