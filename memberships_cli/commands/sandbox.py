"""`memberships sandbox`: run or reset the bundled Bird-compatible API on loopback."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..command_line import number

sandbox_app = typer.Typer(
    name="sandbox",
    help="The bundled local API: a playground, no Bird account needed. "
    "It speaks Bird's Accounts API on 127.0.0.1 and keeps its state in SQLite.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@sandbox_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", metavar="HOST", help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", click_type=number(0, 65535), metavar="PORT", help="Port, 0 to 65535 (0 picks a free one).")] = 8765,
    reset: Annotated[bool, typer.Option("--reset", help="Restore the seed data before serving.")] = False,
    latency: Annotated[float, typer.Option("--latency", click_type=number(0, 10, whole=False), metavar="SECONDS", help="Seconds to wait before each API answer, 0 to 10.")] = 0.0,
    db: Annotated[Optional[str], typer.Option("--db", metavar="PATH", help="SQLite file to keep state in (default: user data dir).", show_default=False)] = None,
) -> None:
    """Serve the sandbox API in the foreground.

    Prints the exports that point the CLI (or any other program) at it; Ctrl-C stops it.
    """
    from ..config import is_loopback
    from ..errors import UsageError
    from ..sandbox import SANDBOX_TOKEN, SandboxServer, Store, default_db_path

    app = ctx.obj
    if not is_loopback(host):
        raise UsageError(f"refusing to serve the sandbox on {host}: it is for loopback only", "use --host 127.0.0.1 or ::1")
    store = Store(db or default_db_path())
    if reset:
        store.reset()
    try:
        server = SandboxServer(store, host=host, port=port, latency=latency)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", "pick another --port, or --port 0 for any free one") from None
    print(f"export MEMBERSHIPS_API_URL={server.url}", file=app.stdout)
    print(f"export MEMBERSHIPS_TOKEN={SANDBOX_TOKEN}", file=app.stdout, flush=True)
    app.say(f"Sandbox API on {server.url} (state: {store.path}). Ctrl-C stops it.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        app.say("Sandbox stopped.")
    finally:
        server.stop()


@sandbox_app.command("reset")
def reset_cmd(
    ctx: typer.Context,
    db: Annotated[Optional[str], typer.Option("--db", metavar="PATH", help="SQLite file to reset (default: user data dir).", show_default=False)] = None,
) -> None:
    """Restore the sandbox's seed data (undo every accept and leave)."""
    from ..sandbox import Store, default_db_path

    store = Store(db or default_db_path())
    store.reset()
    ctx.obj.say(f"Sandbox data restored to the seed ({store.count()} memberships) in {store.path}.")


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app)
