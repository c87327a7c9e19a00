"""login, status and logout against a real OS keyring: gnome-keyring's Secret Service in a throwaway
D-Bus session (tests/tools/with-secret-service.sh), checked from outside with `secret-tool`.

Skipped where the tools are missing, unless MEMBERSHIPS_REQUIRE_REAL_KEYRING=1 (CI sets it), in
which case their absence fails the run instead of hiding the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from memberships_cli.sandbox import SANDBOX_TOKEN

from harness import base_env

WRAPPER = Path(__file__).resolve().parent / "tools" / "with-secret-service.sh"
TOOLS = ("dbus-run-session", "gnome-keyring-daemon", "secret-tool", "dbus-send")

# Each step exits with its own code, so a failure says which one broke.
STEPS = r"""
set -u
cli() { "$PYTHON" -m memberships_cli "$@"; }
printf '%s\n' "$TOKEN" | cli login --with-token 2>login.err || exit 11
secret-tool lookup service memberships-cli username "$ACCOUNT" >stored.txt || exit 12
cli status --json >status.json 2>status.err || exit 13
cli list --json >list.json 2>list.err || exit 14
cli logout 2>logout.err || exit 15
if secret-tool lookup service memberships-cli username "$ACCOUNT" >/dev/null; then exit 16; fi
cli status --json >after.json 2>after.err
echo "$?" >after.code
exit 0
"""


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = f"real keyring test needs {', '.join(missing)} (apt-get install --no-install-recommends gnome-keyring libsecret-tools dbus)"
    if os.environ.get("MEMBERSHIPS_REQUIRE_REAL_KEYRING") == "1":
        pytest.fail(message + "; MEMBERSHIPS_REQUIRE_REAL_KEYRING=1 makes this a failure")
    pytest.skip(message)


def test_login_status_logout_with_gnome_keyring(home, sandbox, tmp_path):
    require_tools()
    work = tmp_path / "steps"
    work.mkdir()
    account = f"127.0.0.1:{sandbox.port}:default"
    env = base_env(home) | {
        "MEMBERSHIPS_API_URL": sandbox.url,
        "TOKEN": SANDBOX_TOKEN,
        "ACCOUNT": account,
        "PYTHON": sys.executable,
    }
    env.pop("PYTHON_KEYRING_BACKEND")  # the wrapper selects the Secret Service backend itself
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = subprocess.run([str(WRAPPER), "bash", "-c", STEPS], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    logs = {p.name: p.read_text() for p in work.iterdir()}
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr, logs)

    assert "✓ Logged in" in logs["login.err"] and "OS keyring" in logs["login.err"]
    assert logs["stored.txt"] == SANDBOX_TOKEN  # where secret-tool finds it: service + username
    status = json.loads(logs["status.json"])
    assert status["tokenSource"] == "keyring" and status["valid"] is True
    assert status["sources"][1] == {"source": "keyring", "state": "stored", "detail": f"service memberships-cli, account {account}"}
    assert isinstance(json.loads(logs["list.json"]), list)
    assert "removed the token from the OS keyring" in logs["logout.err"]
    assert logs["after.code"].strip() == "4"
    assert json.loads(logs["after.json"])["tokenSource"] is None
    # Never a token file on this path, and never the token in anything the CLI printed.
    assert not (home / "config" / "memberships-cli" / "tokens").exists()
    for name, text in logs.items():
        if name != "stored.txt":
            assert SANDBOX_TOKEN not in text, name
    assert [(q["path"], q["authorization"]) for q in sandbox.requests][:1] == [("/me", f"Bearer {SANDBOX_TOKEN}")]
