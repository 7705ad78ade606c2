"""Build isolated plugin managers and run spec dicts in tests."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anyio

from hayate.engine.runtime import BotRuntime, RunResult
from hayate.plugins.manager import PluginManager


def make_plugins(extra: Iterable[str] = ()) -> PluginManager:
    """Core + the testing fakes + the named plugin modules; never ambient entry points."""
    pm = PluginManager()
    pm.add_plugin("core", loader=lambda: __import__("hayate.plugins.builtin", fromlist=["x"]),
                  distribution="hayate-core")
    pm.add_plugin("testing", loader=lambda: __import__("hayate_testing.plugin", fromlist=["x"]),
                  distribution="hayate-testing")
    for module in extra:
        name = module.rsplit(".", 1)[0].replace(".", "_")
        pm.add_plugin(name, loader=_importer(module), distribution=module.split(".")[0])
    return pm


def spec_with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of a spec dict with changes given as ``section__id__key=value``."""
    raw = copy.deepcopy(base)
    for path, value in changes.items():
        node = raw
        parts = path.split("__")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return raw


def _importer(module: str) -> Callable[[], object]:
    def load() -> object:
        return importlib.import_module(module)
    return load


async def run_spec_dict_async(raw: dict[str, Any], plugins: PluginManager,
                              out_dir: Path | None = None,
                              overrides: Iterable[str] = ()) -> tuple[RunResult, BotRuntime]:
    from hayate.spec.loader import parse_spec

    spec = parse_spec(copy.deepcopy(raw), plugins.registry, file="test.toml",
                      overrides=list(overrides))
    runtime = BotRuntime(spec, plugins, out_dir=out_dir, install_signal_handlers=False)
    result = await runtime.run()
    return result, runtime


def run_spec_dict(raw: dict[str, Any], plugins: PluginManager, out_dir: Path | None = None,
                  overrides: Iterable[str] = ()) -> tuple[RunResult, BotRuntime]:
    async def main() -> tuple[RunResult, BotRuntime]:
        return await run_spec_dict_async(raw, plugins, out_dir, overrides)

    return anyio.run(main, backend="asyncio")
