"""Conformance suites: the contracts every Hayate component must honour.

A plugin's tests subclass a suite and fill in a few attributes; pytest then runs every
check against the plugin's component::

    from hayate_testing.conformance import SimulatedCollectorConformance

    class TestMyFeed(SimulatedCollectorConformance):
        plugin = "hayate_myvenue.plugin"
        kind = "myvenue.replay"
        config = {"path": "tests/data/sample.jsonl"}

The suites use only public behaviour (configs, events, actions, summaries), so they hold
for any implementation. Every one includes the checks of :class:`ComponentConformance`
(registered under its role, a docstring, a strict and frozen config). Every wait ends on
an event; a suite's ``timeout`` only fails a test that hangs.

Collectors
    :class:`CollectorConformance`: configuration, and the capability flags backed by the
    methods the engine calls. :class:`SimulatedCollectorConformance`: runs a bot to the
    end of its data; events time-ordered and the same on every run.
    :class:`LiveCollectorConformance`: reports ready, emits events stamped with venue time
    and local receive time, stops when cancelled (without swallowing it), emits nothing
    after, closes its connections, and runs in a bot until a strategy stops it. Override
    ``environment()``, an async context manager yielding a :class:`LiveSource`, to start
    what it talks to (a local server on 127.0.0.1)::

        class TestMyPublic(LiveCollectorConformance):
            plugin = "hayate_myvenue.plugin"
            kind = "myvenue.public"
            config = {"symbols": ["BTCUSDT"]}

            @contextlib.asynccontextmanager
            async def environment(self):
                async with MyLocalServer() as server:
                    yield LiveSource(config={"url": server.url}, feed=server.play,
                                     connections=lambda: len(server.clients))

    :class:`ClockFollowerConformance`: a ``clock_follower`` (a timer) keeps a simulation
    simulated and fires on the simulated clock.

States and inputs
    :class:`StateConformance`: applies every event type (market and private,
    ``BookInvalid``, ``StreamGap``, unknown symbols and event classes, see
    :mod:`hayate_testing.event_script`) and the bot's actions without raising; two
    instances fed the same events agree (``observe()``, by default ``summary()``); the
    summary is JSON-ready; it runs in a bot. :class:`InputConformance`: binds to its
    states and ``read()`` works before any event and after each; a strategy reads it in a
    bot.

Strategies
    :class:`StrategyConformance`: survives every event type, and only sends orders on the
    instrument's grids and cancels by client id.

Executors
    :class:`ExecutorConformance`: a probe strategy places two orders, cancels one as soon
    as it is acknowledged and stops once the cancel is confirmed; orders are acknowledged
    by client id, the cancel confirmed, and after teardown nothing is open or still
    pending (``PendingNew``, ``PendingCancel``, ``PendingAmend``) in the bot's account.
    The default venue data is simulated; a live executor's suite overrides
    ``environment()`` to start its local exchange and yield a :class:`VenueEnvironment`
    (the collectors it needs, the executor's URLs). The check functions
    (``check_nothing_open_after_teardown(run)``...) apply to any :class:`ProbeRun`.
"""

from hayate_testing.conformance.collectors import (
    ClockFollowerConformance,
    CollectorConformance,
    LiveCollectorConformance,
    LiveSource,
    SimulatedCollectorConformance,
)
from hayate_testing.conformance.component import ComponentConformance
from hayate_testing.conformance.executors import ExecutorConformance, ProbeRun, VenueEnvironment
from hayate_testing.conformance.states import InputConformance, StateConformance
from hayate_testing.conformance.strategies import StrategyConformance

__all__ = [
    "ClockFollowerConformance",
    "CollectorConformance",
    "ComponentConformance",
    "ExecutorConformance",
    "InputConformance",
    "LiveCollectorConformance",
    "LiveSource",
    "ProbeRun",
    "SimulatedCollectorConformance",
    "StateConformance",
    "StrategyConformance",
    "VenueEnvironment",
]
