"""Logging set-up for the CLI: levels per module (``HAYATE_LOG``), text or JSON lines.

``HAYATE_LOG`` works like ``RUST_LOG``: a comma-separated list of ``module=level`` pairs
and at most one bare level for everything else, e.g. ``hayate_bybit=debug,info``.
Library code only logs; this module is called by the CLI alone.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "parse_log_spec"]

_LEVELS = {"trace": 5, "debug": 10, "info": 20, "warn": 30, "warning": 30, "error": 40,
           "critical": 50, "off": 100}


def _level(name: str) -> int:
    try:
        return _LEVELS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown log level {name!r}; valid: {', '.join(_LEVELS)}") from None


def parse_log_spec(spec: str, default: int = logging.INFO) -> tuple[int, dict[str, int]]:
    """``"hayate_bybit=debug,info"`` -> (INFO, {"hayate_bybit": DEBUG})."""
    root = default
    per: dict[str, int] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, eq, level = part.partition("=")
        if eq:
            per[name.strip()] = _level(level)
        else:
            root = _level(name)
    return root, per


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    _skip = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message",
                                                                                  "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in self._skip and not k.startswith("_"):
                out[k] = v if isinstance(v, int | float | str | bool | None) else str(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


#: Libraries that log every request or frame at INFO/DEBUG: quiet (WARNING) unless a
#: ``HAYATE_LOG`` entry names them, e.g. ``HAYATE_LOG=httpx=info``.
CHATTY_LIBRARIES = ("httpx", "httpcore", "websockets", "aiohttp.access", "hpack")


def configure_logging(level: str | None, env_spec: str | None, fmt: str = "text",
                      rich_console: Any = None) -> None:
    root_level, per = parse_log_spec(env_spec or "")
    if level:
        root_level = _level(level)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif rich_console is not None:
        from rich.logging import RichHandler

        handler = RichHandler(console=rich_console, show_path=False, rich_tracebacks=False,
                              log_time_format="%H:%M:%S")
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(min([root_level, *per.values()]))
    handler.setLevel(logging.NOTSET)
    # Per-module levels: set on the named loggers; the root level applies to the rest.
    logging.getLogger().setLevel(root_level)
    for name in CHATTY_LIBRARIES:
        if name not in per:
            # One line per HTTP request or frame would bury the bot's own log.
            logging.getLogger(name).setLevel(max(root_level, logging.WARNING))
    for name, lvl in per.items():
        logging.getLogger(name).setLevel(lvl)
    logging.captureWarnings(True)
