"""The CLI against the sandbox served over TLS on loopback: every real run is https://.

The certificate comes from a throwaway CA (trustme) that the CLI trusts as a user's machine would
tell it to: SSL_CERT_FILE. Without that, the certificate is refused at once (no retries: a refusal
is not a passing fault) with one line saying so and exit 5, like every failure to reach the API.
"""

from __future__ import annotations

import pytest
import trustme

from memberships_cli.sandbox import SandboxServer, Store, seed
from memberships_cli.sandbox.tls import serve_over_tls


@pytest.fixture(scope="module")
def authority():
    return trustme.CA()


@pytest.fixture
def tls_sandbox(tmp_path, authority):
    server = SandboxServer(Store(tmp_path / "tls-sandbox.sqlite3"))
    leaf = authority.issue_cert("127.0.0.1")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(chain))
    leaf.private_key_pem.write_to_path(str(key))
    server.url_tls = serve_over_tls(server, str(chain), str(key))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ca_file(tmp_path, authority):
    path = tmp_path / "test-ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)


def test_list_over_tls_with_the_ca_trusted_through_ssl_cert_file(cli, tls_sandbox, ca_file):
    assert tls_sandbox.url_tls.startswith("https://127.0.0.1:")
    r = cli("list", "--format", "jsonl", api_url=tls_sandbox.url_tls, env={"SSL_CERT_FILE": ca_file, "SSL_CERT_DIR": None})
    assert r.code == 0, r
    assert r.stderr == ""
    assert len(r.stdout.splitlines()) == len(seed.memberships())
    assert [(q["method"], q["path"]) for q in tls_sandbox.requests] == [("GET", "/me/memberships")]


def test_accept_over_tls_changes_the_state(cli, tls_sandbox, ca_file):
    r = cli("accept", "globex-retail", "--json", api_url=tls_sandbox.url_tls, env={"SSL_CERT_FILE": ca_file})
    assert r.code == 0, r
    assert tls_sandbox.store.get(_org_id("globex-retail"))["status"] == "active"


def _org_id(slug: str) -> str:
    return next(m["organization"]["id"] for m in seed.memberships() if m["organization"]["slug"] == slug)


@pytest.mark.parametrize("case", ["unknown CA", "wrong host name"])
def test_an_untrusted_certificate_is_refused_at_once_with_one_line(cli, tls_sandbox, ca_file, case):
    """The certifi bundle does not know the test CA; nor does the right CA help for a name that is
    not on the certificate (issued for 127.0.0.1 alone)."""
    url, env, host = tls_sandbox.url_tls, {"SSL_CERT_FILE": None, "SSL_CERT_DIR": None}, "127.0.0.1"
    if case == "wrong host name":
        url, env["SSL_CERT_FILE"], host = url.replace("127.0.0.1", "localhost"), ca_file, "localhost"
    r = cli("list", "--format", "jsonl", api_url=url, env=env)
    assert r.code == 5, r
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r
    assert lines[0].startswith(f"error: GET /me/memberships: the TLS certificate of {host} is not trusted ("), r
    assert "SSL_CERT_FILE" in lines[0]
    assert "attempt" not in lines[0]  # refused once, not retried
    assert tls_sandbox.requests == []
