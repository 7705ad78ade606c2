"""The direct entry-point reader finds what ``importlib.metadata`` finds, or steps aside."""

from __future__ import annotations

import os.path
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from hayate.plugins.discovery import FoundEntryPoint, find_entry_points
from hayate.plugins.manager import PluginManager


def _by_metadata(group: str) -> set[tuple[str, str, str, str]]:
    return {(ep.name, ep.value, ep.dist.metadata["Name"], ep.dist.version)  # type: ignore[union-attr]
            for ep in metadata.entry_points(group=group)}


def _direct(group: str) -> set[tuple[str, str, str, str]]:
    found = find_entry_points(group)
    assert found is not None
    return {(ep.name, ep.value, ep.distribution, ep.version) for ep in found}


@pytest.mark.parametrize("group", ["hayate", "console_scripts", "pytest11"])
def test_the_installed_environment_reads_the_same_both_ways(group: str) -> None:
    assert _direct(group) == _by_metadata(group)
    if group == "hayate":
        assert "core" in {n for n, *_ in _direct(group)}  # hayate-core alone: just core


def _dist(root: Path, folder: str, entry_points: str | None, headers: str = "") -> None:
    d = root / folder
    d.mkdir(parents=True)
    if entry_points is not None:
        (d / "entry_points.txt").write_text(entry_points)
    meta = "PKG-INFO" if folder.endswith(".egg-info") else "METADATA"
    (d / meta).write_text(headers + "\nlong description\nName: not-a-header\n")


def test_shadowed_copies_comments_and_egg_info_match_importlib_metadata(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "Foo_Bar-1.0.dist-info",
          "# a comment\n[console_scripts]\nfoo = foo:main\n\n[hayate]\n"
          "foo = foo_plugin:plugin\n  spaced   =  pkg.mod : obj.attr \n",
          "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n")
    # the same distribution again, later on the path: importlib.metadata ignores it
    _dist(second, "foo.bar-2.0.dist-info", "[hayate]\nfoo2 = other:plugin\n",
          "Name: foo.bar\nVersion: 2.0\n")
    _dist(second, "legacy-0.3-py3.11.egg-info", "[hayate]\nlegacy = legacy:plugin\n",
          "Metadata-Version: 1.0\nName: Legacy\nVersion: 0.3\n")
    _dist(second, "quiet-1.0.dist-info", None, "Name: quiet\nVersion: 1.0\n")
    _dist(second, "other-5.dist-info", "[pytest11]\nx = y\n", "Name: other\nVersion: 5\n")
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second)])
    expected = {("foo", "foo_plugin:plugin", "Foo_Bar", "1.0"),
                ("spaced", "pkg.mod : obj.attr", "Foo_Bar", "1.0"),
                ("legacy", "legacy:plugin", "Legacy", "0.3")}
    assert _direct("hayate") == expected
    assert _by_metadata("hayate") == expected


def test_an_unreadable_entry_points_file_skips_that_distribution_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _dist(tmp_path, "broken-1.0.dist-info", None, "Name: broken\nVersion: 1.0\n")
    (tmp_path / "broken-1.0.dist-info" / "entry_points.txt").write_bytes(
        b"[hayate]\nbroken = \xff\xfe:plugin\n")
    _dist(tmp_path, "fine-1.0.dist-info", "[hayate]\nfine = fine:plugin\n",
          "Name: fine\nVersion: 1.0\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert _direct("hayate") == {("fine", "fine:plugin", "fine", "1.0")}
    assert "broken-1.0.dist-info" in caplog.text


def test_a_zip_on_the_path_falls_back_to_importlib_metadata(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped-1.0.dist-info/entry_points.txt", "[hayate]\nzipped = zipped:p\n")
        z.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
    monkeypatch.setattr(sys, "path", [str(archive), *sys.path])
    assert find_entry_points("hayate") is None
    pm = PluginManager()
    pm.load_entry_points()
    # found through importlib.metadata: the zipped plugin is listed (and fails to import)
    assert pm.plugins["zipped"].distribution == "zipped"
    assert pm.plugins["zipped"].error is not None and "zipped" in pm.plugins["zipped"].error
    assert pm.plugins["core"].error is None and pm.plugins["core"].distribution == "hayate-core"


def test_load_follows_the_attribute_path_and_ignores_extras() -> None:
    assert FoundEntryPoint("j", "os.path:join", "d", "1").load() is os.path.join
    assert FoundEntryPoint("j", "os.path : join [extra]", "d", "1").load() is os.path.join
    assert FoundEntryPoint("m", "os.path", "d", "1").load() is os.path
