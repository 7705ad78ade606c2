"""Where downloaded market data lives: ``HAYATE_DATA_DIR``, else a per-user directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "default_data_dir", "resolve_data_dir"]

DATA_DIR_ENV = "HAYATE_DATA_DIR"


def default_data_dir() -> Path:
    """``$HAYATE_DATA_DIR``, or the platform's per-user data directory + ``hayate``:
    ``$XDG_DATA_HOME/hayate`` (``~/.local/share/hayate``) on Linux,
    ``~/Library/Application Support/hayate`` on macOS, ``%LOCALAPPDATA%\\hayate`` on
    Windows."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", "").strip()
        return (Path(base) if base else home / "AppData" / "Local") / "hayate"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "hayate"
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg else home / ".local" / "share") / "hayate"


def resolve_data_dir(explicit: str | Path | None) -> Path:
    """An explicit directory (``--dir``, ``data_dir =``) wins over the default."""
    if explicit is not None and str(explicit).strip():
        return Path(explicit).expanduser()
    return default_data_dir()
