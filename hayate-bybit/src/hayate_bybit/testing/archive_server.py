"""A local mirror of Bybit's public history archives, for tests and offline demos.

It listens on 127.0.0.1 only and serves, from one root, what Bybit serves from two hosts:
``trading/{SYMBOL}/…csv.gz``, ``spot/{SYMBOL}/…csv.gz`` and
``orderbook/{linear|spot}/{SYMBOL}/…data.zip``, with an HTML index for every folder (the
trade folders in the style of an nginx autoindex, the order-book folders as a table with
absolute links, so a listing reader has to cope with both), byte ranges (``206`` with
``Content-Range``, ``416`` past the end) and ``GET /v5/market/instruments-info``.

Faults a test can inject (each for the next ``times`` requests of a path):
:meth:`cut_after` (the connection closes after some bytes of the body),
:meth:`corrupt` (the same length with damaged bytes), :meth:`fail` (an HTTP status), plus
:meth:`hold_until_concurrent` (file requests wait until that many are in flight, which
proves downloads run in parallel without timing anything) and ``listings=False`` (a
mirror without folder indexes). Every request is logged in :attr:`requests`.

It runs its own thread, so the code under test may be async or a ``hayate`` subprocess:

    with ArchiveServer(files) as server:
        ... hayate data download bybit --base-url {server.base_url} ...
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = ["ArchiveServer", "LoggedRequest"]

log = logging.getLogger("hayate_bybit.testing.archive_server")

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # relative to the root, no leading slash
    range_start: int | None
    status: int


@dataclass
class _Fault:
    kind: str  # "cut", "corrupt", "status"
    times: int
    arg: int = 0


class ArchiveServer:
    """Serves ``files`` (path relative to the root -> bytes) like Bybit's archive hosts."""

    def __init__(
        self,
        files: Mapping[str, bytes] | None = None,
        *,
        instruments: Mapping[str, Iterable[dict[str, Any]]] | None = None,
        listings: bool = True,
        ranges: bool = True,
        port: int = 0,
    ) -> None:
        self.files: dict[str, bytes] = dict(files or {})
        self.ranges = ranges  # False: a mirror that ignores Range and always sends it all
        self.instruments = {k: list(v) for k, v in (instruments or {}).items()}
        self.listings = listings
        self.port = port
        self.requests: list[LoggedRequest] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._hold: int | None = None
        self._hold_within = 30.0
        self._faults: dict[str, list[_Fault]] = {}
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ArchiveServer:
        handler = type("Handler", (_Handler,), {"archive": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="archive-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._hold = None
            self._cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ArchiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- faults ------------------------------------------------------------------------------

    def cut_after(self, path: str, nbytes: int, times: int = 1) -> None:
        """The next ``times`` GETs of ``path`` send ``nbytes`` of the body, then close."""
        self._add(path, _Fault("cut", times, nbytes))

    def corrupt(self, path: str, times: int = 1) -> None:
        """The next ``times`` GETs of ``path`` serve it with bytes damaged in the middle."""
        self._add(path, _Fault("corrupt", times))

    def fail(self, path: str, status: int, times: int = 1) -> None:
        """The next ``times`` GETs of ``path`` answer ``status`` with no file."""
        self._add(path, _Fault("status", times, status))

    def hold_until_concurrent(self, n: int, within: float = 30.0) -> None:
        """File GETs wait until ``n`` of them are in flight at once (or ``within`` seconds
        passed, a guard so a sequential client fails a test instead of hanging it)."""
        with self._cond:
            self._hold = n
            self._hold_within = within

    def _add(self, path: str, fault: _Fault) -> None:
        with self._cond:
            self._faults.setdefault(path.lstrip("/"), []).append(fault)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._cond:
            faults = self._faults.get(path)
            if not faults:
                return None
            fault = faults[0]
            fault.times -= 1
            if fault.times <= 0:
                faults.pop(0)
            return fault

    def gets(self, path: str) -> list[LoggedRequest]:
        """The GETs of one path, in order."""
        p = path.lstrip("/")
        return [r for r in self.requests if r.method == "GET" and r.path == p]

    # -- content -----------------------------------------------------------------------------

    def folder_entries(self, folder: str) -> tuple[list[str], list[str]] | None:
        """(sub-folders, files) directly in ``folder`` (``''`` is the root), or None."""
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        subs: set[str] = set()
        names: list[str] = []
        for path in self.files:
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            if "/" in rest:
                subs.add(rest.split("/", 1)[0])
            else:
                names.append(rest)
        if not subs and not names:
            return None
        return sorted(subs), sorted(names)

    def listing_page(self, folder: str) -> str | None:
        entries = self.folder_entries(folder)
        if entries is None:
            return None
        subs, names = entries
        folder = folder.strip("/")
        if folder.startswith("orderbook"):
            rows = "".join(f'<tr><td><a href="/{quote(folder)}/{quote(s)}/">{html.escape(s)}/'
                           f"</a></td><td>-</td></tr>\n" for s in subs)
            rows += "".join(
                f'<tr><td><a href="/{quote(folder)}/{quote(n)}">{html.escape(n)}</a></td>'
                f"<td>{len(self.files[f'{folder}/{n}'])}</td></tr>\n" for n in names)
            return (f"<!DOCTYPE html><html><head><title>{html.escape(folder)}</title></head>"
                    f"<body><table><tr><th>Name</th><th>Size</th></tr>\n{rows}</table>"
                    "</body></html>")
        lines = ['<a href="../">../</a>']
        lines += [f'<a href="{quote(s)}/">{html.escape(s)}/</a>' + " " * 20 + "-" for s in subs]
        lines += [f'<a href="{quote(n)}">{html.escape(n)}</a>' + " " * 20
                  + str(len(self.files[f"{folder}/{n}" if folder else n])) for n in names]
        body = "\n".join(lines)
        return (f"<html>\n<head><title>Index of /{folder}/</title></head>\n<body>\n"
                f"<h1>Index of /{folder}/</h1><hr><pre>{body}\n</pre><hr></body>\n</html>\n")


class _Handler(BaseHTTPRequestHandler):
    archive: ArchiveServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _log(self, path: str, range_start: int | None, status: int) -> None:
        a = self.archive
        with a._cond:
            a.requests.append(LoggedRequest(self.command, path, range_start, status))

    def _serve(self, head: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path).lstrip("/")
        if path == "v5/market/instruments-info":
            self._instruments(parse_qs(url.query))
            return
        a = self.archive
        if path.endswith("/") or path == "":
            page = a.listing_page(path) if a.listings else None
            if page is None:
                self._log(path, None, 404)
                self._plain(HTTPStatus.NOT_FOUND, b"404 Not Found", head)
                return
            self._log(path, None, 200)
            self._plain(HTTPStatus.OK, page.encode(), head, "text/html; charset=utf-8")
            return
        data = a.files.get(path)
        if data is None:
            self._log(path, None, 404)
            self._plain(HTTPStatus.NOT_FOUND, b"404 Not Found", head)
            return
        m = _RANGE.fullmatch(self.headers.get("Range", "").strip()) if a.ranges else None
        start = int(m.group(1)) if m else None
        if head:
            self._log(path, start, 200)
            self._send_headers(200, {"Content-Length": str(len(data)),
                                     "Accept-Ranges": "bytes"})
            return
        fault = a._take_fault(path)
        if fault is not None and fault.kind == "status":
            self._log(path, start, fault.arg)
            self._plain(HTTPStatus(fault.arg), b"fault injected", head)
            return
        if fault is not None and fault.kind == "corrupt":
            mid = len(data) // 2
            data = data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 64]) + data[mid + 64:]
        self._track(True)
        try:
            if start is not None and start >= len(data):
                self._log(path, start, 416)
                self._send_headers(416, {"Content-Range": f"bytes */{len(data)}",
                                         "Content-Length": "0"})
                return
            if start is not None:
                body = data[start:]
                self._log(path, start, 206)
                self._send_headers(206, {
                    "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}",
                    "Content-Length": str(len(body)), "Accept-Ranges": "bytes"})
            else:
                body = data
                self._log(path, None, 200)
                self._send_headers(200, {"Content-Length": str(len(body)),
                                         "Accept-Ranges": "bytes",
                                         "Content-Type": "application/octet-stream"})
            if fault is not None and fault.kind == "cut":
                self.wfile.write(body[:fault.arg])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)
        finally:
            self._track(False)

    def _track(self, entering: bool) -> None:
        a = self.archive
        with a._cond:
            if not entering:
                a._in_flight -= 1
                a._cond.notify_all()
                return
            a._in_flight += 1
            a.max_in_flight = max(a.max_in_flight, a._in_flight)
            a._cond.notify_all()
            if a._hold is not None:
                a._cond.wait_for(lambda: a._hold is None or a._in_flight >= a._hold
                                 or a.max_in_flight >= a._hold, timeout=a._hold_within)

    def _send_headers(self, status: int, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()

    def _plain(self, status: HTTPStatus, body: bytes, head: bool,
               content_type: str = "text/plain") -> None:
        self._send_headers(status.value, {"Content-Type": content_type,
                                          "Content-Length": str(len(body))})
        if not head:
            self.wfile.write(body)

    def _instruments(self, query: dict[str, list[str]]) -> None:
        category = (query.get("category") or [""])[-1]
        items = self.archive.instruments.get(category)
        self._log("v5/market/instruments-info", None, 200)
        if items is None:
            body = {"retCode": 10001, "retMsg": f"params error: category {category!r}",
                    "result": {}, "retExtInfo": {}, "time": 1_700_000_000_000}
        else:
            body = {"retCode": 0, "retMsg": "OK",
                    "result": {"category": category, "list": items, "nextPageCursor": ""},
                    "retExtInfo": {}, "time": 1_700_000_000_000}
        raw = json.dumps(body, separators=(",", ":")).encode()
        self._send_headers(200, {"Content-Type": "application/json",
                                 "Content-Length": str(len(raw))})
        self.wfile.write(raw)


def main(argv: list[str] | None = None) -> None:
    """``python -m hayate_bybit.testing.archive_server``: serve the sample archive (built
    from the packaged recordings) on 127.0.0.1 until Ctrl-C, for trying ``hayate data``
    without the internet."""
    import argparse

    from hayate_bybit.testing.archive_samples import sample_archive, sample_instruments

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--days", type=int, default=2, help="days of the spot BTCUSDT sample")
    args = parser.parse_args(argv)
    with ArchiveServer(sample_archive(args.days), instruments=sample_instruments(),
                       port=args.port) as server:
        print(f"serving the sample archive at {server.base_url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
