"""Checks every component honours, whatever its role: registration, docs, a strict config."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.plugins.manager import PluginManager
from hayate.plugins.registry import RegistryEntry
from hayate.types import ROLES, Role
from hayate_testing.harness import make_plugins

__all__ = ["ComponentConformance"]


class ComponentConformance:
    """Checks shared by every role. Subclasses set ``plugin``, ``kind`` and ``config``."""

    plugin: ClassVar[str] = ""  # the plugin module under test ("" for the test kit's own fakes)
    kind: ClassVar[str]
    role: ClassVar[Role]
    config: ClassVar[dict[str, Any]] = {}
    wiring: ClassVar[dict[str, Any]] = {}  # keys the role needs to validate (e.g. inputs)

    def make_plugins(self) -> PluginManager:
        """Core, the test kit's fakes and ``plugin``; override to add test-only plugins."""
        return make_plugins([self.plugin] if self.plugin else [])

    @pytest.fixture
    def plugins(self) -> PluginManager:
        return self.make_plugins()

    def entry(self, plugins: PluginManager) -> RegistryEntry:
        e = plugins.registry.get(self.role, self.kind)
        assert e is not None, f"{self.kind!r} is not registered as one of the {self.role}"
        return e

    def build(self, plugins: PluginManager, bot: BotContext, id: str, **config: Any) -> Any:
        """An instance as the engine makes one: validated config, its own context."""
        entry = self.entry(plugins)
        cfg = entry.config_model.model_validate(
            {"type": self.kind, **self.wiring, **copy.deepcopy(self.config), **config})
        return entry.cls(id, cfg, ComponentContext(bot, id, self.kind, self.role))

    @staticmethod
    def bot_context(clock: Any, seed: int = 0) -> BotContext:
        return BotContext(name="conformance", clock=clock, seed=seed, out_dir=None,
                          mode="paper", client_ids=ClientIdFactory("c"))

    def test_registered_under_its_role(self, plugins: PluginManager) -> None:
        self.entry(plugins)
        others = [r for r in ROLES if r != self.role and plugins.registry.get(r, self.kind)]
        assert not others, f"{self.kind!r} is also registered as {others}"

    def test_has_a_one_line_description(self, plugins: PluginManager) -> None:
        assert self.entry(plugins).doc, f"{self.kind}: give the class a docstring"

    def test_config_accepts_the_example(self, plugins: PluginManager) -> None:
        self.entry(plugins).config_model.model_validate({"type": self.kind, **self.wiring, **self.config})

    def test_config_rejects_unknown_keys(self, plugins: PluginManager) -> None:
        with pytest.raises(ValidationError):
            self.entry(plugins).config_model.model_validate(
                {"type": self.kind, **self.wiring, **self.config, "no_such_option": 1})

    def test_config_is_frozen(self, plugins: PluginManager) -> None:
        cfg: Any = self.entry(plugins).config_model.model_validate(
            {"type": self.kind, **self.wiring, **self.config})
        with pytest.raises(ValidationError):
            cfg.type = "other"
