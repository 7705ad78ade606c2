"""One archive file onto disk: resumed, retried, checked whole, then renamed into place.

The bytes go to ``NAME.part`` beside the final name. A cut connection, a timeout, a 429 or
a 5xx is retried after a capped, jittered backoff, asking only for the missing bytes
(``Range: bytes=N-``); a ``.part`` left by an earlier, interrupted run is resumed the same
way. A server that ignores the range answers 200 and the file starts over. When the last
byte arrived the size is checked against what the server announced and the archive is
read end to end (:func:`check_archive`); a truncated or corrupt file is deleted and
fetched again from the start, and only a whole one is renamed to its final name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio
import anyio.to_thread
import httpx

from hayate.transport import Backoff
from hayate_bybit.history.integrity import CorruptArchive, check_archive
from hayate_bybit.history.layout import Kind

__all__ = ["FetchFailed", "Fetched", "NotFound", "fetch_archive", "part_path"]

log = logging.getLogger("hayate_bybit.history.fetch")

_BATCH = 1 << 20  # bytes written to disk at once
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")


class NotFound(Exception):
    """The server has no such file (HTTP 404/410): not retried."""


class FetchFailed(Exception):
    """The file could not be fetched whole after every retry."""


class _Transient(Exception):
    """Worth another try (a cut body, a short file, 429, 5xx)."""


@dataclass
class Fetched:
    size: int
    messages: int
    resumed_from: int  # bytes an earlier run left that this one kept (0: fetched from the start)
    attempts: int


OnStart = Callable[[int | None, int], None]  # (total size if known, bytes already there)
OnChunk = Callable[[int], None]


def part_path(final: Path) -> Path:
    return final.with_name(final.name + ".part")


async def fetch_archive(
    client: httpx.AsyncClient,
    url: str,
    final: Path,
    kind: Kind,
    *,
    retries: int = 5,
    backoff: Backoff | None = None,
    on_start: OnStart | None = None,
    on_chunk: OnChunk | None = None,
    check_limiter: anyio.CapacityLimiter | None = None,
) -> Fetched:
    """Download ``url`` to ``final``; :class:`NotFound` or :class:`FetchFailed` if not."""
    backoff = backoff or Backoff(0.5, 30.0)
    part = part_path(final)
    await anyio.Path(final.parent).mkdir(parents=True, exist_ok=True)
    kept: list[int] = []  # bytes of an earlier run the first answer let us keep

    def started(total: int | None, have: int) -> None:
        if not kept:
            kept.append(have)  # 0 when the server ignored our Range and sent it all
        if on_start:
            on_start(total, have)

    attempts = 0
    corrupt = 0
    while True:
        size, tries = await _bytes_to_part(client, url, part, retries=retries, backoff=backoff,
                                           on_start=started, on_chunk=on_chunk)
        attempts += tries
        try:
            messages = await anyio.to_thread.run_sync(check_archive, part, kind,
                                                      limiter=check_limiter)
        except CorruptArchive as e:
            corrupt += 1
            await anyio.Path(part).unlink(missing_ok=True)
            if corrupt > retries:
                raise FetchFailed(f"{url}: the archive is corrupt every time ({e})") from None
            log.warning("%s: corrupt archive (%s); fetching it again", final.name, e)
            await anyio.sleep(backoff.next())
            continue
        await anyio.Path(part).replace(final)
        return Fetched(size=size, messages=messages, resumed_from=kept[0] if kept else 0,
                       attempts=attempts)


async def _bytes_to_part(
    client: httpx.AsyncClient, url: str, part: Path, *, retries: int, backoff: Backoff,
    on_start: OnStart | None, on_chunk: OnChunk | None,
) -> tuple[int, int]:
    """Every byte of ``url`` in ``part``: (size, requests made)."""
    failures = 0
    requests = 0
    while True:
        have = await _size(part)
        requests += 1
        got = 0
        try:
            size, got = await _one_request(client, url, part, have, on_start, on_chunk)
            return size, requests
        except NotFound:
            raise
        except (httpx.TransportError, _Transient) as e:
            if isinstance(e, _TransientGot):
                got = e.got
            # A try that moved the file forward starts the count again: a long download
            # over a flaky link is not given up while it progresses.
            failures = 1 if got > 0 else failures + 1
            if got > 0:
                backoff.reset()
            if failures > retries:
                raise FetchFailed(f"{url}: {_describe(e)} (gave up after {requests} "
                                  "requests)") from None
            delay = backoff.next()
            log.info("%s: %s; trying again in %.1fs from byte %d", url, _describe(e), delay,
                     await _size(part))
            await anyio.sleep(delay)


class _TransientGot(_Transient):
    def __init__(self, message: str, got: int) -> None:
        super().__init__(message)
        self.got = got


def _describe(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if isinstance(e, _Transient) else f"{type(e).__name__}: {text}"


async def _one_request(
    client: httpx.AsyncClient, url: str, part: Path, have: int,
    on_start: OnStart | None, on_chunk: OnChunk | None,
) -> tuple[int, int]:
    headers = {"Accept-Encoding": "identity"}  # the archive's bytes, not a re-encoding
    if have:
        headers["Range"] = f"bytes={have}-"
    got = 0
    async with client.stream("GET", url, headers=headers) as r:
        status = r.status_code
        if status in (404, 410):
            raise NotFound(url)
        if status == 416 and have:
            total = _content_range(r.headers.get("content-range"))[2]
            if total == have:  # the part is already complete
                if on_start:
                    on_start(total, have)
                return have, 0
            await anyio.Path(part).unlink(missing_ok=True)
            raise _Transient(f"range not satisfiable for {have} bytes on disk; starting over")
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}")
        if status == 206 and have:
            start, _, total = _content_range(r.headers.get("content-range"))
            if start != have:
                await anyio.Path(part).unlink(missing_ok=True)
                raise _Transient(f"asked for byte {have}, got a range from {start}")
            mode: Literal["ab", "wb"] = "ab"
        elif status == 200:
            total = _int(r.headers.get("content-length"))
            have = 0
            mode = "wb"
        else:
            raise FetchFailed(f"{url}: HTTP {status}")
        if on_start:
            on_start(total, have)
        try:
            async with await anyio.open_file(part, mode) as fh:
                # Bytes as they arrive (a chunk size would hold back the last bytes before a
                # cut), written in batches; what arrived before a cut is kept for the resume.
                buffer = bytearray()
                try:
                    async for chunk in r.aiter_raw():
                        buffer += chunk
                        got += len(chunk)
                        if on_chunk:
                            on_chunk(len(chunk))
                        if len(buffer) >= _BATCH:
                            await fh.write(bytes(buffer))
                            buffer.clear()
                finally:
                    with anyio.CancelScope(shield=True):
                        await fh.write(bytes(buffer))
        except httpx.TransportError as e:
            raise _TransientGot(f"connection lost after {have + got} bytes "
                                f"({type(e).__name__})", got) from None
    size = have + got
    if total is not None and size != total:
        raise _TransientGot(f"got {size} of {total} bytes", got)
    return size, got


async def _size(path: Path) -> int:
    try:
        return (await anyio.Path(path).stat()).st_size
    except FileNotFoundError:
        return 0


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _content_range(text: str | None) -> tuple[int | None, int | None, int | None]:
    m = _CONTENT_RANGE.fullmatch((text or "").strip())
    if not m:
        return None, None, None
    start, end, total = m.groups()
    return (int(start) if start else None, int(end) if end else None,
            int(total) if total and total != "*" else None)
