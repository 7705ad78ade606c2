"""Hook implementations of the hayate-bybit plugin (registration only)."""

from __future__ import annotations
