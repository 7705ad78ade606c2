"""Imported once by the local pool's forkserver: the engine and the plugins, loaded before
workers are forked from it, so each worker starts ready instead of importing them again."""

from __future__ import annotations

import logging

try:
    import anyio  # noqa: F401  (imported for the forked workers)

    import hayate.engine.runtime  # noqa: F401
    from hayate.sweep.worker import _plugins, plugin_env_now

    _plugins(plugin_env_now())
except Exception as e:  # a worker loads them itself, and reports what is wrong
    logging.getLogger("hayate.sweep.preload").debug("preload failed: %s", e)
