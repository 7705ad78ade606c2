"""Real Bybit v5 messages for tests: REST replies, WebSocket pushes and short raw recordings.

They ship with the package (under ``testing/samples/``, provenance in ``SOURCES.md``) so our
tests, a plugin author's tests and fuzzers start from what Bybit really sends, on any machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["RECORDINGS_DIR", "SAMPLES_DIR", "sample", "sample_text"]

SAMPLES_DIR = Path(__file__).with_name("samples")
RECORDINGS_DIR = SAMPLES_DIR / "recordings"


def sample_text(name: str) -> str:
    """The raw text of one sample, e.g. ``sample_text("ws_private_order.json")``."""
    return (SAMPLES_DIR / name).read_text(encoding="utf-8")


def sample(name: str) -> Any:
    """One sample message, parsed: ``sample("rest_order_realtime.json")["result"]``."""
    return json.loads(sample_text(name))
