"""One problem in a spec: where (file, key path), what, and what would have been valid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Problem", "format_path"]


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
    file: str
    path: tuple[str | int, ...]
    message: str
    choices: tuple[str, ...] = field(default=())
    hint: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def key_path(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.key_path}: {self.message}"
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
        }
