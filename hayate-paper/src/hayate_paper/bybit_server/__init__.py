"""``hayate paper serve``: a local exchange speaking Bybit v5 (REST and WebSockets) whose
orders are matched by the paper exchange. Needs the ``bybit`` extra:
``pip install "hayate-paper[bybit]"``.

    from hayate_paper.bybit_server import BybitServer, load_config

    async with BybitServer(load_config("examples/serve.toml"), port=0) as server:
        print(server.base_url)

Exports are imported lazily, so that ``hayate_paper.bybit_server.cli`` (registered as a
command whether or not the extra is installed) never pulls in Bybit code by itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BybitServer", "ServerConfig", "load_config"]


def __getattr__(name: str) -> Any:
    if name == "BybitServer":
        from hayate_paper.bybit_server.server import BybitServer

        return BybitServer
    if name in ("ServerConfig", "load_config"):
        from hayate_paper.bybit_server import config

        return getattr(config, name)
    raise AttributeError(name)
