"""One problem in a spec: where (file, key path), what, and what would have been valid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["KeyPath", "Problem", "ValueErrorAt", "format_path"]

KeyPath = tuple[str | int, ...]
"""A path of keys into a spec, e.g. ``("strategies", "mm", "order_qty", 0)``."""

#: ``Problem.file`` of a problem caused by a ``--set`` override (``Problem.override`` says which).
OVERRIDE = "--set"


def format_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """What is wrong, where.

    ``override`` is the ``--set key=value`` involved, if any: with ``file == "--set"`` the
    override itself is the culprit (it set the bad value); with the spec's file, the problem
    is in the spec as changed by that override.
    """

    file: str
    path: KeyPath
    message: str
    choices: tuple[str, ...] = field(default=())
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    override: str | None = None

    @property
    def key_path(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key: str | None = self.key_path if self.path else None  # None: the whole file
        if self.override is not None:
            if self.file == OVERRIDE:
                where = f"--set {self.override}"
                if key == self.override.partition("=")[0].strip():
                    key = None  # "--set a.b=1: a.b: ..." says it twice
            else:
                where += f" with --set {self.override}"
        text = f"{where}: {key}: {self.message}" if key else f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        if self.choices:
            text += f"; valid choices: {', '.join(self.choices)}"
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "path": self.key_path,
            "message": self.message,
            "choices": list(self.choices),
            "hint": self.hint,
            "line": self.line,
            "column": self.column,
            "set": self.override,
        }


class ValueErrorAt(ValueError):
    """A ``ValueError`` that points at one or more keys below the model that raised it.

    A pydantic ``model_validator`` sees the whole config, so a plain ``ValueError`` from it
    is reported at the component's table. Raise this instead to name the key(s) at fault::

        raise ValueErrorAt(("levels",), "order_qty lists 2 sizes for 3 levels")

    The spec loader reports each ``(key path, message)`` as a problem of its own, so the
    user (and a ``--set`` override) is pointed at the right line.
    """

    def __init__(self, key: KeyPath | str, message: str) -> None:
        self.items: tuple[tuple[KeyPath, str], ...] = ((_as_path(key), message),)
        super().__init__(message)

    @classmethod
    def several(cls, items: Iterable[tuple[KeyPath | str, str]]) -> ValueErrorAt:
        listed = [(_as_path(k), m) for k, m in items]
        if not listed:
            raise ValueError("ValueErrorAt.several() needs at least one (key, message)")
        err = cls(listed[0][0], listed[0][1])
        err.items = tuple(listed)
        err.args = ("; ".join(f"{format_path(k)}: {m}" for k, m in listed),)
        return err


def _as_path(key: KeyPath | str | int) -> KeyPath:
    if isinstance(key, str | int):
        return (key,)
    return tuple(key)
