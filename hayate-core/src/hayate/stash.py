"""Per-bot data of plugins, under typed keys.

A hook implementation that keeps something for the length of one bot run (the journal it
attached, a probe, a server) puts it in ``bot.stash`` under a :class:`StashKey` it owns,
instead of hanging an attribute on an object another package owns::

    JOURNAL = StashKey[JournalRecorder]("hayate.journal")

    @hookimpl
    def hayate_bot_starting(bot):
        bot.stash[JOURNAL] = attach_journal(bot)

    @hookimpl
    def hayate_bot_stopped(bot, summary):
        journal = bot.stash.get(JOURNAL)

Keys are compared by identity, so two plugins can never collide even with the same name;
the name only shows in errors and reprs. The value type is the key's type parameter, so a
type checker knows what ``stash[key]`` returns.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

__all__ = ["Stash", "StashKey"]

T = TypeVar("T")
D = TypeVar("D")


class StashKey(Generic[T]):
    """A key of :class:`Stash`; create one per kind of value, at module level."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"StashKey({self.name!r})"


class Stash:
    """A mapping of :class:`StashKey` to values of the key's type (one per bot)."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[StashKey[Any], Any] = {}

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._items[key] = value

    def __getitem__(self, key: StashKey[T]) -> T:
        try:
            return self._items[key]
        except KeyError:
            raise KeyError(f"nothing stashed under {key.name!r}") from None

    @overload
    def get(self, key: StashKey[T]) -> T | None: ...
    @overload
    def get(self, key: StashKey[T], default: D) -> T | D: ...
    def get(self, key: StashKey[T], default: Any = None) -> Any:
        return self._items.get(key, default)

    def setdefault(self, key: StashKey[T], default: T) -> T:
        return self._items.setdefault(key, default)

    def __delitem__(self, key: StashKey[T]) -> None:
        del self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Stash({', '.join(k.name for k in self._items)})"
