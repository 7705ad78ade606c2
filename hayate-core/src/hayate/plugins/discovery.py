"""Find the entry points of one group without importing :mod:`importlib.metadata`.

Why: every ``hayate`` command starts by finding the plugins, and ``importlib.metadata`` pulls
in the ``email`` package to parse metadata it does not need here (about 15 ms of a 170 ms
``hayate --help``). Installed distributions are ``*.dist-info`` / ``*.egg-info`` folders on
``sys.path``; their ``entry_points.txt`` is a small INI file. This module reads those the way
``importlib.metadata.entry_points(group=...)`` does: the first distribution of a name on
``sys.path`` wins, later copies are ignored. Anything it cannot read that way (a zip on
``sys.path``) makes :func:`find_entry_points` return ``None``, and :func:`entry_points` then
asks ``importlib.metadata``; ``hayate-core/tests/test_plugin_discovery.py`` checks both agree.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FoundEntryPoint", "entry_points", "find_entry_points"]

_SUFFIXES = (".dist-info", ".egg-info")
log = logging.getLogger("hayate.plugins")


@dataclass(frozen=True)
class FoundEntryPoint:
    """One ``name = module:attr`` line of a group, with the distribution that declares it."""

    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> object:
        module, _, attr = self.value.partition(":")
        obj: object = importlib.import_module(module.strip())
        attr = attr.split("[", 1)[0].strip()  # "[extras]" is legacy syntax; ignored
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
        return obj


def _stem(folder: str) -> tuple[str, str]:
    """(name, rest) of ``name-version[-...].dist-info``, as the folder's name spells them."""
    name, _, rest = os.path.basename(folder).rsplit(".", 1)[0].partition("-")
    return name, rest


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata_folders(entries: Iterable[str]) -> list[str] | None:
    """Every metadata folder on ``entries`` in lookup order; ``None`` if one is a zip."""
    folders: list[str] = []
    for entry in entries:
        path = entry or "."
        if not os.path.isdir(path):
            if os.path.isfile(path):
                return None  # a zip (or other archive): leave it to importlib.metadata
            continue
        try:
            with os.scandir(path) as it:  # is_dir() from the listing: no stat per folder
                names = [e.name for e in it
                         if e.name.lower().endswith(_SUFFIXES) and e.is_dir()]
        except OSError:
            continue
        # importlib.metadata's order: a folder's dist-infos before its egg-infos
        names.sort(key=lambda n: (n.lower().endswith(".egg-info"), n))
        folders.extend(os.path.join(path, n) for n in names)
    return folders


def _group_lines(text: str, group: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section == group and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def _name_and_version(folder: str) -> tuple[str, str]:
    """``Name`` and ``Version`` from the folder's metadata headers (the stem as a fallback)."""
    name, rest = _stem(folder)
    version = rest.split("-", 1)[0] or "?"
    for file in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, file), encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, sep, value = line.partition(":")
                    if sep and key == "Name":
                        name = value.strip()
                    elif sep and key == "Version":
                        version = value.strip()
        except (OSError, UnicodeDecodeError):
            continue
        break
    return name, version


def find_entry_points(group: str, path: Iterable[str] | None = None
                      ) -> list[FoundEntryPoint] | None:
    """The entry points of ``group`` on ``path`` (default ``sys.path``), or ``None`` when some
    path entry needs :mod:`importlib.metadata` to be read."""
    folders = _metadata_folders(sys.path if path is None else path)
    if folders is None:
        return None
    seen: set[str] = set()
    found: list[FoundEntryPoint] = []
    for folder in folders:
        key = _normalized(_stem(folder)[0])
        if key in seen:
            continue
        seen.add(key)
        try:
            with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as f:
                lines = _group_lines(f.read(), group)
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as e:  # one broken install must not stop Hayate
            log.warning("skipped the entry points of %s: %s", folder, e)
            continue
        if lines:
            dist, version = _name_and_version(folder)
            found.extend(FoundEntryPoint(n, v, dist, version) for n, v in lines)
    return found


def entry_points(group: str) -> list[FoundEntryPoint]:
    """The entry points of ``group`` on ``sys.path``: read directly, or by
    :mod:`importlib.metadata` where the direct reader steps aside."""
    found = find_entry_points(group)
    if found is not None:
        return found
    from importlib import metadata

    eps = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        eps.append(FoundEntryPoint(ep.name, ep.value,
                                   dist.metadata["Name"] if dist is not None else "?",
                                   dist.version if dist is not None else "?"))
    return eps
