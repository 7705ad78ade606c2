"""Shared fixtures: where the real recorded samples are, and the anyio backend."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path("/work/shared/bybit-samples")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared" / "bybit-samples").is_dir():
        SAMPLES = parent / "shared" / "bybit-samples"
        break


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def samples() -> Path:
    """The directory of real Bybit messages (../shared/bybit-samples)."""
    assert SAMPLES.is_dir(), f"bybit samples not found at {SAMPLES}"
    return SAMPLES


@pytest.fixture(scope="session")
def recordings(samples: Path) -> Path:
    return samples / "recordings"
