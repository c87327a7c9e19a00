"""Keyring backends for CLI tests, chosen in the subprocess with PYTHON_KEYRING_BACKEND and
PYTHONPATH=tests. None of them ever touches the machine's real keyring."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "MEMBERSHIPS_TEST_KEYRING_FILE"
TRIPWIRE_ENV = "MEMBERSHIPS_TEST_KEYRING_TRIPWIRE"
TESTS_DIR = Path(__file__).resolve().parent


def backend_env(name: str, **extra: str) -> dict:
    """The environment that makes the CLI's process use backend `name` of this module."""
    return {"PYTHON_KEYRING_BACKEND": f"keyring_backends.{name}", "PYTHONPATH": str(TESTS_DIR), **extra}


class FileKeyringState:
    """For tests: the FileKeyring's JSON file, and the environment that selects it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = backend_env("FileKeyring", **{FILE_ENV: str(path)})

    def entries(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def put(self, account: str, secret: str) -> None:
        data = self.entries()
        data[f"memberships-cli/{account}"] = secret
        self.path.write_text(json.dumps(data))


class FileKeyring(KeyringBackend):
    """A keyring kept in the JSON file named by $MEMBERSHIPS_TEST_KEYRING_FILE: {"service/account": secret}.
    Tests read the file to see exactly what was stored, under which service and account."""

    priority = 1

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[FILE_ENV])

    def _load(self) -> dict:
        try:
            return json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}

    def _save(self, data: dict) -> None:
        self._path().write_text(json.dumps(data))

    def get_password(self, service, username):
        return self._load().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self._save(data)


class HangingKeyring(KeyringBackend):
    """A Secret Service that never answers (a locked collection waiting on a prompt nobody sees)."""

    priority = 1

    def get_password(self, service, username, *rest):
        time.sleep(3600)

    set_password = delete_password = get_password


class TripwireKeyring(KeyringBackend):
    """Records every use in the file named by $MEMBERSHIPS_TEST_KEYRING_TRIPWIRE, then fails loudly:
    for the paths that must never touch the keyring (the sandbox)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self._record("loaded")

    @staticmethod
    def _record(what: str) -> None:
        with open(os.environ[TRIPWIRE_ENV], "a") as handle:
            handle.write(what + "\n")

    def get_password(self, service, username):
        self._record(f"get {service} {username}")
        raise AssertionError("the keyring was touched")

    def set_password(self, service, username, password):
        self._record(f"set {service} {username}")
        raise AssertionError("the keyring was touched")

    def delete_password(self, service, username):
        self._record(f"delete {service} {username}")
        raise AssertionError("the keyring was touched")


class BuggyKeyring(KeyringBackend):
    """A backend with a bug of its own: it raises what no keyring error is. The CLI cannot know
    what went wrong, so this is one honest way to reach its last-resort handler from outside."""

    priority = 1

    def get_password(self, service, username):
        raise ValueError("bug in the keyring backend")

    set_password = delete_password = get_password
