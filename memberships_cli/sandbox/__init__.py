"""A Bird-compatible local API (the sandbox): seed data, SQLite store, HTTP server, faults.

The CLI imports this package on every run, so the heavy parts load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Not a secret: it only opens the local sandbox, and it is printed in the docs on purpose.
SANDBOX_TOKEN = "sandbox-token-not-a-secret"

if TYPE_CHECKING:
    from memberships_cli.sandbox.faults import Fault
    from memberships_cli.sandbox.server import SandboxServer, run_in_background
    from memberships_cli.sandbox.store import Store, default_db_path

_LAZY = {
    "Fault": "memberships_cli.sandbox.faults",
    "SandboxServer": "memberships_cli.sandbox.server",
    "run_in_background": "memberships_cli.sandbox.server",
    "Store": "memberships_cli.sandbox.store",
    "default_db_path": "memberships_cli.sandbox.store",
}

__all__ = ["SANDBOX_TOKEN", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
