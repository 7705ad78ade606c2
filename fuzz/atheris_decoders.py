"""Coverage-guided fuzzing of the venue decoders with atheris (libFuzzer for Python).

    pip install atheris && python fuzz/atheris_decoders.py -max_total_time=600
    nox -s fuzz                       # the long hypothesis run, then this

Each input is one frame, fed as bytes and as text to the public decoder (after a real
snapshot, so book deltas reach the book), the private decoder and a recording line
reader's decoder; the strict unit parser gets it as a number. An exception escaping any
of them, an impossible value in an event (:func:`hayate_bybit.testing.hostile.impossible`)
or a value that broke its rule in a shared parser cache is a crash: libFuzzer stops and
writes the input to ``crash-*``. The seed corpus is the real Bybit samples shipped with
hayate_bybit.testing (written to ``fuzz/corpus/`` on the first run; arguments after the
script's own go to libFuzzer).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from hayate.exceptions import InvalidNumber
    from hayate.instruments import InstrumentRegistry
    from hayate.numbers import UnitParser
    from hayate_bybit.private.records import PrivateDecoder
    from hayate_bybit.schemas.market import instrument_from_info
    from hayate_bybit.testing import instrument_item
    from hayate_bybit.testing.hostile import impossible
    from hayate_bybit.testing.samples import RECORDINGS_DIR, SAMPLES_DIR
    from hayate_bybit.ws.decoder import PublicDecoder

RECV = 1_786_310_816_000_000_000
SPOT = RECORDINGS_DIR / "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl"
LINES = [x for x in SPOT.read_text().splitlines() if x.strip()]
INSTRUMENTS = InstrumentRegistry([instrument_from_info(i, "spot") for i in (
    instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
    instrument_item("spot", "ETHUSDT", "0.01", "0.00001"))])
PUBLIC = PublicDecoder(INSTRUMENTS)
for line in LINES[:60]:
    PUBLIC.feed(line, RECV)
PRIVATE = PrivateDecoder()
PARSER = UnitParser(8, sign="positive", what="price")


def check(events: list) -> None:  # type: ignore[type-arg]
    for ev in events:
        problem = impossible(ev)
        if problem is not None:
            raise AssertionError(f"{problem}: {ev!r}")


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    for frame in (data, text):
        check(PUBLIC.feed(frame, RECV))
        check(PRIVATE.feed(frame, RECV))
    for seq in PUBLIC.books.values():
        if seq.ready:
            assert seq.book.valid and not seq.book.crossed, seq.topic
            assert all(q > 0 for q in seq.book.bids.values()), seq.topic
            assert all(q > 0 for q in seq.book.asks.values()), seq.topic
    if PUBLIC.malformed.get("unexpected") or PRIVATE.malformed.get("unexpected"):
        raise AssertionError("a check fell through to the decoder's safety net")
    if not PUBLIC.books or not all(s.ready for s in PUBLIC.books.values()):
        for line in LINES[:60]:  # keep books to break: back to a trusted state
            PUBLIC.feed(line, RECV)
    with contextlib.suppress(InvalidNumber):  # anything else escaping is a crash
        PARSER(text)
    for inst in INSTRUMENTS:
        assert all(v > 0 for v in inst.price_parser.cache.values())
        assert all(v >= 0 for v in inst.qty_parser.cache.values())


def seed_corpus(where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    seeds = [p.read_bytes() for p in sorted(SAMPLES_DIR.glob("ws_*.json"))]
    seeds += [line.encode() for line in LINES[:200]]
    for i, seed in enumerate(seeds):
        (where / f"seed-{i:04d}").write_bytes(seed)


def main() -> None:
    logging.disable(logging.CRITICAL)  # skipped frames are logged; millions of them here
    corpus = Path(__file__).with_name("corpus")
    if not corpus.exists():
        seed_corpus(corpus)
    argv = [sys.argv[0], *sys.argv[1:]]
    if not any(not a.startswith("-") for a in argv[1:]):
        argv.append(str(corpus))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
