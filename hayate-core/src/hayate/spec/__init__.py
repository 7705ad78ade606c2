"""Bot specs: TOML files validated into a wiring of component configs, all errors at once."""

from hayate.spec.errors import Problem
from hayate.spec.loader import LoadedSpec, SpecComponent, apply_overrides, load_spec, parse_spec
from hayate.spec.models import EngineConfig

__all__ = [
    "EngineConfig",
    "LoadedSpec",
    "Problem",
    "SpecComponent",
    "apply_overrides",
    "load_spec",
    "parse_spec",
]
