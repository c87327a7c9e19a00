"""Unit tests of auth.py: masking, naming, the time-bound keyring calls and their error mapping, the
0600 file, and the precedence of sources. Every test sets its keyring backend explicitly."""

from __future__ import annotations

import os
import stat
import threading
import time

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from memberships_cli import auth
from memberships_cli.auth import KeyringTimeout, KeyringUnavailable, Token, TokenStore, find_token, mask, require_token
from memberships_cli.errors import AuthError, CliError, UsageError

from keyring_backends import FileKeyring


@pytest.fixture(autouse=True)
def restore_keyring():
    """Each test picks its backend with keyring.set_keyring; this puts the previous one back."""
    saved = keyring.core._keyring_backend
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.core._keyring_backend = saved


@pytest.fixture
def file_keyring(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMBERSHIPS_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    backend = FileKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def store(tmp_path):
    warnings: list[str] = []
    s = TokenStore("https://api.bird.com", "default", directory=tmp_path / "tokens", timeout=0.3, warn=warnings.append)
    s.warnings = warnings
    return s


class Raising(KeyringBackend):
    priority = 1
    error: BaseException = RuntimeError("boom")

    def get_password(self, service, username, *rest):
        raise self.error

    set_password = delete_password = get_password


class Blocking(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service, username, *rest):
        self.calls += 1
        self.release.wait(30)

    set_password = delete_password = get_password


# -- masking, names, token text --------------------------------------------------------------------


@pytest.mark.parametrize(
    "token, shown",
    [("abcdefghijklmnop", "abcd… (16 characters)"), ("abcdefghi", "abcd… (9 characters)"), ("abcdefgh", "… (8 characters)"), ("", "… (0 characters)")],
)
def test_mask_shows_at_most_four_characters_and_the_length(token, shown):
    assert mask(token) == shown


def test_a_token_object_never_shows_its_value():
    token = Token("abcdefghijklmnopqrstuvwxyz", "keyring")
    assert "efgh" not in repr(token) and "efgh" not in str(token)
    assert "abcd" in repr(token)


@pytest.mark.parametrize(
    "url, host",
    [
        ("https://api.bird.com", "api.bird.com"),
        ("https://API.Bird.com:443/v1", "api.bird.com"),
        ("https://api.bird.com:8443", "api.bird.com:8443"),
        ("http://127.0.0.1:80", "127.0.0.1"),
        ("http://127.0.0.1:8765", "127.0.0.1:8765"),
        ("http://[::1]:8765", "[::1]:8765"),
    ],
)
def test_the_account_is_host_with_non_default_port_and_profile(url, host, tmp_path):
    s = TokenStore(url, "work", directory=tmp_path)
    assert s.host == host
    assert s.account == f"{host}:work"
    assert s.path.parent == tmp_path and "/" not in s.path.name and ":" not in s.path.name


def test_different_accounts_never_share_a_token_file(tmp_path):
    a = TokenStore("https://a.example.com:8443", "x", directory=tmp_path)
    b = TokenStore("https://a.example.com", "8443_x", directory=tmp_path)
    assert a.path != b.path


@pytest.mark.parametrize("value", ["  tok-en_1.2~+/=  \n", "tok"])
def test_clean_token_strips_whitespace(value):
    assert auth.clean_token(value, "stdin") == value.strip()


@pytest.mark.parametrize("value, what", [("", "empty"), ("a b", "spaces"), ("a\nb", "2 lines"), ("tøken", "non-ASCII")])
def test_clean_token_refuses_what_cannot_be_a_token_without_showing_it(value, what):
    with pytest.raises(UsageError) as caught:
        auth.clean_token(value, "stdin")
    assert what in caught.value.message
    if value:
        assert value not in caught.value.message + (caught.value.hint or "")


@pytest.mark.parametrize("raw, seconds", [(None, 5.0), ("", 5.0), ("0.25", 0.25)])
def test_keyring_timeout_setting(raw, seconds):
    environ = {} if raw is None else {"MEMBERSHIPS_KEYRING_TIMEOUT": raw}
    assert auth.keyring_timeout(environ) == seconds


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "601"])
def test_keyring_timeout_setting_refuses_nonsense(raw):
    with pytest.raises(UsageError):
        auth.keyring_timeout({"MEMBERSHIPS_KEYRING_TIMEOUT": raw})


# -- the keyring ------------------------------------------------------------------------------------


def test_set_get_delete_in_the_keyring(store, file_keyring):
    assert store.keyring_get() is None
    store.keyring_set("the-token")
    assert file_keyring.get_password("memberships-cli", "api.bird.com:default") == "the-token"
    assert store.keyring_get() == "the-token"
    assert store.keyring_delete() is True
    assert store.keyring_delete() is False
    assert store.keyring_get() is None


def test_the_fail_backend_is_no_usable_keyring(store):
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailable) as caught:
        store.keyring_set("the-token")
    assert caught.value.exit_code == 4
    assert "none found" in caught.value.message
    assert "MEMBERSHIPS_TOKEN" in caught.value.hint and "--insecure-storage" in caught.value.hint


def test_a_null_keyring_that_drops_the_token_is_caught(store):
    keyring.set_keyring(null.Keyring())
    with pytest.raises(KeyringUnavailable, match="does not give it back"):
        store.keyring_set("the-token")


class SecretStorageLikeError(Exception):
    """Stands for secretstorage.exceptions.*: recognised by module, not imported."""


SecretStorageLikeError.__module__ = "secretstorage.exceptions"


@pytest.mark.parametrize(
    "error",
    [RuntimeError("Unable to initialize SecretService"), keyring.errors.KeyringLocked("locked"),
     keyring.errors.InitError("no collection"), ConnectionRefusedError("bus"), SecretStorageLikeError("no service")],
    ids=lambda e: type(e).__name__,
)
def test_keyring_failures_become_the_headless_error(store, error):
    backend = Raising()
    backend.error = error
    keyring.set_keyring(backend)
    for call in (store.keyring_get, store.keyring_delete, lambda: store.keyring_set("the-token")):
        with pytest.raises(KeyringUnavailable) as caught:
            call()
        assert type(error).__name__ in caught.value.message


def test_a_bug_in_a_backend_is_not_hidden_as_no_keyring(store):
    backend = Raising()
    backend.error = ZeroDivisionError("a bug")
    keyring.set_keyring(backend)
    with pytest.raises(ZeroDivisionError):
        store.keyring_get()


def test_a_keyring_error_message_never_carries_the_token(store):
    backend = Raising()
    backend.error = keyring.errors.PasswordSetError("could not store the-secret-token-value")
    keyring.set_keyring(backend)
    with pytest.raises(KeyringUnavailable) as caught:
        store.keyring_set("the-secret-token-value")
    assert "the-secret-token-value" not in caught.value.message
    assert "***" in caught.value.message


def test_a_bug_whose_message_carries_the_token_is_reported_without_it(store):
    backend = Raising()
    backend.error = ValueError("cannot encode the-secret-token-value")
    keyring.set_keyring(backend)
    with pytest.raises(CliError) as caught:
        store.keyring_set("the-secret-token-value")
    assert not isinstance(caught.value, KeyringUnavailable)
    assert caught.value.message == "unexpected error from the keyring backend: ValueError: cannot encode ***"


def test_a_keyring_that_does_not_answer_times_out_and_is_not_asked_again(store):
    backend = Blocking()
    keyring.set_keyring(backend)
    started = time.monotonic()
    with pytest.raises(KeyringTimeout) as caught:
        store.keyring_get()
    assert 0.25 <= time.monotonic() - started < 3
    assert caught.value.exit_code == 4
    assert caught.value.message == "the OS keyring did not answer within 0.3 s"
    started = time.monotonic()
    with pytest.raises(KeyringTimeout):
        store.keyring_set("the-token")
    assert time.monotonic() - started < 0.1
    assert backend.calls == 1
    backend.release.set()


def test_keyring_calls_run_off_the_main_thread_as_daemons(store):
    seen = {}

    class Spy(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            seen["thread"] = threading.current_thread()
            return None

        def set_password(self, service, username, password):
            raise NotImplementedError

        def delete_password(self, service, username):
            raise NotImplementedError

    keyring.set_keyring(Spy())
    assert store.keyring_get() is None
    assert seen["thread"] is not threading.main_thread() and seen["thread"].daemon


# -- the file ---------------------------------------------------------------------------------------


def test_the_file_is_created_0600_even_with_umask_0(store):
    old = os.umask(0)
    try:
        path = store.file_set("the-token")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.file_get() == "the-token"
    assert store.warnings == []


def test_a_file_readable_by_others_warns(store):
    store.file_set("the-token").chmod(0o640)
    assert store.file_get() == "the-token"
    assert len(store.warnings) == 1 and "mode 0640" in store.warnings[0]
    assert "the-token" not in store.warnings[0]


def test_replacing_the_file_keeps_it_0600_and_leaves_no_temporary(store):
    store.file_set("first-token")
    store.file_set("second-token")
    assert store.file_get() == "second-token"
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]


def test_a_symlink_in_place_of_the_file_is_not_followed(store, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("planted-token\n")
    store.path.parent.mkdir(parents=True)
    store.path.symlink_to(target)
    with pytest.raises(AuthError, match="cannot read the token file"):
        store.file_get()


def test_a_directory_in_place_of_the_file_is_an_error_not_a_crash(store):
    store.path.mkdir(parents=True)
    with pytest.raises(AuthError, match="cannot read the token file"):
        store.file_get()


def test_file_delete(store):
    assert store.file_delete() is False
    store.file_set("the-token")
    assert store.file_delete() is True
    assert store.file_get() is None


# -- precedence -------------------------------------------------------------------------------------


def test_env_beats_keyring_beats_file(store, file_keyring):
    store.file_set("file-token")
    assert find_token({}, store).token == Token("file-token", "file")
    store.keyring_set("keyring-token")
    assert find_token({}, store).token == Token("keyring-token", "keyring")
    assert find_token({"MEMBERSHIPS_TOKEN": " env-token\n"}, store).token == Token("env-token", "MEMBERSHIPS_TOKEN")


def test_with_the_env_token_the_keyring_is_not_asked_unless_every_source_is_wanted(store):
    backend = Blocking()
    keyring.set_keyring(backend)
    assert find_token({"MEMBERSHIPS_TOKEN": "env-token"}, store).token.source == "MEMBERSHIPS_TOKEN"
    assert backend.calls == 0
    lookup = find_token({"MEMBERSHIPS_TOKEN": "env-token"}, store, every_source=True)
    assert [(s.source, s.state) for s in lookup.sources] == [("MEMBERSHIPS_TOKEN", "set"), ("keyring", "timed out"), ("file", "none")]
    assert lookup.token.source == "MEMBERSHIPS_TOKEN" and lookup.problem is None
    backend.release.set()


def test_headless_falls_through_to_the_file_silently(store):
    keyring.set_keyring(fail.Keyring())
    store.file_set("file-token")
    lookup = find_token({}, store)
    assert lookup.token == Token("file-token", "file")
    assert lookup.sources[1].state == "unavailable"
    assert store.warnings == []


def test_a_timed_out_keyring_is_the_problem_when_there_is_no_file(store):
    backend = Blocking()
    keyring.set_keyring(backend)
    with pytest.raises(KeyringTimeout):
        require_token({}, store)
    backend.release.set()


def test_nothing_anywhere_is_not_logged_in(store, file_keyring):
    with pytest.raises(AuthError) as caught:
        require_token({}, store)
    assert caught.value.message == "not logged in: no token for api.bird.com (profile default)"
    assert "run `memberships login` or set MEMBERSHIPS_TOKEN" in caught.value.hint
