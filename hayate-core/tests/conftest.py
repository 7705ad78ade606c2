import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _acknowledged_order(journal: Path) -> bool:
    """The journal of a running bot (another process) holds an order its venue acknowledged."""
    if not journal.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT 1 FROM orders WHERE status = 'New' LIMIT 1"
                                ).fetchone() is not None
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet, or its schema is not there yet
        return False


@pytest.fixture
def acknowledged_order() -> Callable[[Path], bool]:
    """``acknowledged_order(journal)``: the bot writing that journal has a resting order,
    so a test can stop it at a moment that matters instead of after a guessed sleep."""
    return _acknowledged_order
