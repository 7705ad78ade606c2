"""Read a TOML file a user points us at, whatever it turns out to be.

A spec path may name a directory, a binary file, a file in another encoding, something
huge (``/dev/zero``) or broken TOML. Each of those is one :class:`Problem` saying what the
file is and what was expected, never a traceback.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from hayate.spec.errors import Problem

__all__ = ["MAX_BYTES", "parse_toml", "read_text_file", "read_toml_file"]

MAX_BYTES = 10 * 1024 * 1024
"""Larger files are refused unread: a spec or sweep file is a few kilobytes of TOML."""


def read_text_file(path: str | Path, what: str = "spec") -> tuple[str | None, Problem | None]:
    """The text of a UTF-8 file (a leading BOM dropped), or the problem with it."""
    file = str(path)
    p = Path(path)
    try:
        if p.is_dir():
            return None, Problem(file, (), f"is a directory, not a {what} file (TOML)")
        with p.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        return None, Problem(file, (), f"cannot read the {what}: {e.strerror or e}")
    if len(data) > MAX_BYTES:
        return None, Problem(file, (), f"is larger than {MAX_BYTES // (1024 * 1024)} MB: not a "
                             f"{what} file (a {what} is a small TOML text file)")
    if b"\x00" in data:
        return None, Problem(file, (), f"is a binary file, not a {what} (a {what} is a TOML "
                             "text file)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return None, Problem(file, (), f"is not UTF-8 text (byte 0x{data[e.start]:02x} cannot be "
                             f"decoded): a {what} is a TOML file in UTF-8", line=line,
                             hint="save it as UTF-8 in your editor")
    return text, None


def parse_toml(text: str, file: str) -> tuple[dict[str, Any], Problem | None]:
    """The TOML document, or a problem with the line and column of the syntax error."""
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e)) or "TOML syntax error"
        return {}, Problem(file, (), f"TOML syntax error: {msg}", line=line, column=col)


def read_toml_file(path: str | Path, what: str = "spec"
                   ) -> tuple[str, dict[str, Any], Problem | None]:
    """``(text, document, problem)``: the problem is set when the file cannot be used."""
    text, problem = read_text_file(path, what)
    if text is None:
        return "", {}, problem
    raw, problem = parse_toml(text, str(path))
    return text, raw, problem
