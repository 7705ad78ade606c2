"""``hayate paper serve``: run the local Bybit v5 exchange until Ctrl-C.

Registered by the paper plugin whether or not the ``bybit`` extra is installed; without it
the command says how to install it instead of failing with an import error.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["DEMO_CONFIG", "register_paper_commands"]

INSTALL_HINT = 'the local Bybit server needs the bybit extra: pip install "hayate-paper[bybit]"'

DEMO_CONFIG: dict[str, Any] = {
    "market": {"type": "sim.market", "symbol": "BTCUSDT", "tick_size": "0.1",
               "qty_step": "0.001", "start_price": "60000", "volatility": 0.35,
               "duration": "7d"},
    "accounts": [{"api_key": "demo-key", "api_secret": "demo-secret",
                  "balances": {"USDT": "100000"}}],
}
"""What ``hayate paper serve`` runs without ``--config``: a simulated BTCUSDT perpetual and
one account (key ``demo-key``, secret ``demo-secret``)."""


def _extra_missing() -> str | None:
    try:
        import aiohttp  # noqa: F401

        import hayate_bybit.auth  # noqa: F401
    except ImportError as e:
        return f"{INSTALL_HINT} ({e})"
    return None


def register_paper_commands(app: Any) -> None:
    paper = typer.Typer(name="paper", help="The paper exchange as a local server.",
                        no_args_is_help=True, rich_markup_mode=None)

    @paper.command("serve")
    def serve(
        config: Annotated[Path | None, typer.Option(
            "--config", "-c", help="Server config (TOML); default: a simulated BTCUSDT "
            "market and the account demo-key/demo-secret.")] = None,
        host: Annotated[str | None, typer.Option(
            help="Address to listen on (default 127.0.0.1). Another address needs a control "
            "token ([server] control_token or HAYATE_CONTROL_TOKEN) or --expose.")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default 8780; 0: any free port).")] = None,
        expose: Annotated[bool, typer.Option(
            "--expose", help="Listen off loopback even without a control token: anyone who "
            "can reach the port can then drive the market and inject faults.")] = False,
        log_level: Annotated[str | None, typer.Option(
            "--log-level", help="trace, debug, info, warning, error (also HAYATE_LOG).")] = None,
    ) -> None:
        """Serve Bybit's v5 REST and WebSocket API locally, backed by the paper exchange."""
        from hayate.cli.app import EXIT_CONFIG, EXIT_FAILURE, EXIT_INTERRUPTED, err, out

        def fail_config(message: str) -> None:
            err.print(f"error: {message}", markup=False)  # messages name [tables]: no markup
            raise typer.Exit(EXIT_CONFIG)

        problem = _extra_missing()
        if problem is not None:
            from rich.markup import escape

            err.print(f"[bold red]error:[/] {escape(problem)}", markup=True)  # keeps [bybit]
            raise typer.Exit(EXIT_CONFIG)
        import anyio

        from hayate.exceptions import ConfigError, HayateError
        from hayate.logs import configure_logging
        from hayate_paper.bybit_server.config import load_config
        from hayate_paper.bybit_server.server import BybitServer

        try:
            configure_logging(log_level or "info", os.environ.get("HAYATE_LOG"), "text")
        except ValueError as e:
            fail_config(str(e))
        try:
            cfg = load_config(config if config is not None else DEMO_CONFIG)
        except ConfigError as e:
            fail_config(str(e))
            return
        try:
            server = BybitServer(cfg, host=host, port=port, expose=expose)
        except ConfigError as e:
            fail_config(str(e))
            return
        received: list[int] = []

        async def main() -> None:
            await server.start()
            try:
                out.print(f"serving Bybit v5 on {server.base_url}", markup=False)
                out.print(f"  public  {server.public_url('<spot|linear|inverse>')}", markup=False)
                out.print(f"  private {server.private_url}", markup=False)
                out.print(f"  trade   {server.trade_url}", markup=False)
                token = "token required" if server.control_token is not None else "no token"
                out.print(f"  control {server.base_url}/__control/status ({token})",
                          markup=False)
                out.print(f"  accounts: {', '.join(server.accounts)}; Ctrl-C to stop", markup=False)
                out.file.flush()
                if server.exposed_without_token:
                    err.print("[bold red]WARNING: the server listens off loopback with no "
                              "control token: anyone who can reach this port can move the "
                              "market, fill orders and inject faults.[/]", markup=True)
                async with anyio.create_task_group() as tg:
                    async def watch() -> None:
                        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as sigs:
                            async for sig in sigs:
                                received.append(sig)
                                tg.cancel_scope.cancel()
                                return

                    tg.start_soon(watch)
                    await server.stopped.wait()
                    tg.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                    await server.stop()

        try:
            anyio.run(main, backend="asyncio")
        except ConfigError as e:
            fail_config(str(e))
        except OSError as e:
            err.print(f"error: cannot listen on {server.host}:{server.port}: {e}", markup=False)
            raise typer.Exit(EXIT_FAILURE) from None
        except HayateError as e:
            err.print(f"error: {e}", markup=False)
            raise typer.Exit(EXIT_FAILURE) from None
        if server.error is not None:
            err.print(f"error: the market source failed: {server.error}", markup=False)
            raise typer.Exit(EXIT_FAILURE)
        if received:
            err.print("stopped")
            raise typer.Exit(EXIT_INTERRUPTED if received[0] == signal.SIGINT else 143)

    app.add_typer(paper, name="paper")
