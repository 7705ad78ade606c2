"""Hayate's test kit (fixtures, fakes, conformance suites, and ways to wait without sleeping)."""

from hayate_testing.clocks import StepClock
from hayate_testing.harness import make_plugins, run_spec_dict, spec_with
from hayate_testing.waiting import poll_until, wait_until

__all__ = ["StepClock", "make_plugins", "poll_until", "run_spec_dict", "spec_with", "wait_until"]
