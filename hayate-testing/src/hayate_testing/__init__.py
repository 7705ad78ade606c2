"""Hayate's test kit (fixtures, fakes and conformance suites)."""

from hayate_testing.harness import make_plugins, run_spec_dict, spec_with

__all__ = ["make_plugins", "run_spec_dict", "spec_with"]
