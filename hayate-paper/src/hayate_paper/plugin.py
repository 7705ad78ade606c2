"""Hook implementations of the hayate-paper plugin (registration only)."""

from __future__ import annotations
