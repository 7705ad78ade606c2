"""Hook implementations of the hayate-strategies plugin (registration only)."""

from __future__ import annotations
