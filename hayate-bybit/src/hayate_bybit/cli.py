"""``hayate record``: write Bybit public frames to a file (added through the plugin hook)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

__all__ = ["register_record_command"]


def register_record_command(app: Any) -> None:
    @app.command()
    def record(
        out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.gz: gzip).")],
        symbols: Annotated[str, typer.Option(help="Comma-separated, e.g. BTCUSDT,ETHUSDT.")],
        category: Annotated[str, typer.Option(help="spot, linear or inverse.")] = "linear",
        depth: Annotated[int, typer.Option(help="Book depth: 1, 50, 200, 1000 (0: none).")] = 50,
        duration: Annotated[
            float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")
        ] = None,
        testnet: Annotated[bool, typer.Option("--testnet", help="Bybit testnet.")] = False,
        trades: Annotated[bool, typer.Option(help="Record publicTrade.")] = True,
        tickers: Annotated[bool, typer.Option(help="Record tickers.")] = False,
        ws_url: Annotated[str | None, typer.Option(help="Override the WebSocket URL.")] = None,
        rest_url: Annotated[str | None, typer.Option(help="Override the REST base URL.")] = None,
    ) -> None:
        """Record Bybit public market data (raw frames + receive times) until Ctrl-C."""
        from pydantic import ValidationError

        from hayate.cli.app import EXIT_FAILURE, EXIT_INTERRUPTED, err, fail_config
        from hayate.exceptions import ConfigError, HayateError
        from hayate_bybit.recording.recorder import Recorder

        try:
            recorder = Recorder(
                out, symbols=[s for s in symbols.split(",") if s.strip()], category=category,
                depth=depth, testnet=testnet, trades=trades, tickers=tickers, ws_url=ws_url,
                rest_url=rest_url)
        except ValidationError as e:
            fail_config("; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}"
                                  for x in e.errors()))
            return
        interrupted = False
        started = time.monotonic()

        def ready() -> None:
            err.print(f"recording {symbols} ({category}, depth {depth}) to {out}"
                      + (f" for {duration:g}s" if duration else "; Ctrl-C to stop"))

        async def main() -> None:
            nonlocal interrupted
            async with anyio.create_task_group() as tg:
                async def watch() -> None:
                    nonlocal interrupted
                    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as sigs:
                        async for _ in sigs:
                            interrupted = True
                            tg.cancel_scope.cancel()
                            return

                tg.start_soon(watch)
                await recorder.run(duration, on_ready=ready)
                tg.cancel_scope.cancel()

        try:
            anyio.run(main, backend="asyncio")
        except ConfigError as e:
            fail_config(str(e))
        except HayateError as e:
            err.print(f"[bold red]error:[/] {e}", markup=True)
            raise typer.Exit(EXIT_FAILURE) from None
        w = recorder.writer
        if w is not None:
            err.print(f"{out}: {w.frames} frames, {w.bytes} bytes in "
                      f"{time.monotonic() - started:.1f}s")
        if interrupted:
            raise typer.Exit(EXIT_INTERRUPTED)
