"""Trade CSVs come out oldest first, whatever order the file is in."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hayate_bybit.recording import order
from hayate_bybit.recording.order import newest_first, open_trade_lines

HEADER = "id,timestamp,price,volume,side,rpi"


def write(path: Path, rows: list[str], *, gz: bool) -> None:
    text = "\n".join([HEADER, *rows]) + "\n"
    path.write_bytes(gzip.compress(text.encode(), mtime=0) if gz else text.encode())


@given(st.lists(st.integers(1_700_000_000_000, 1_800_000_000_000), min_size=2, max_size=60,
                unique=True),
       st.integers(1, 64), st.booleans())
def test_a_newest_first_file_is_read_from_its_end(times: list[int], block: int,
                                                  gz: bool) -> None:
    times.sort(reverse=True)
    rows = [f"{i},{t},1.0,{i % 7 + 1},buy,0" for i, t in enumerate(times)]
    saved = order._BLOCK
    order._BLOCK = block  # lines cross block boundaries in every way
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("T_2025-01-01.csv" + (".gz" if gz else ""))
            write(path, rows, gz=gz)
            assert newest_first(path, 1)
            assert list(open_trade_lines(path, 1)) == [HEADER, *reversed(rows)]
    finally:
        order._BLOCK = saved


def test_an_oldest_first_file_is_read_as_it_is(tmp_path: Path) -> None:
    rows = ["1,1747612836878,1.0,1,buy,0", "2,1747612836878,1.0,1,sell,0",
            "3,1747612899754,1.0,1,buy,0"]
    path = tmp_path / "T_2025-01-01.csv"
    write(path, rows, gz=False)
    assert not newest_first(path, 1)
    assert list(open_trade_lines(path, 1)) == [HEADER, *rows]
