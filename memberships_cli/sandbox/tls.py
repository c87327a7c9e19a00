"""The sandbox over TLS, for the tests and benchmarks that measure and check real `https://` runs.

Every real run talks TLS, so the figures and the certificate checks are taken against the sandbox
served over TLS on loopback, with a certificate from a throwaway CA (the tests and benchmarks make
one with `trustme`) that the CLI trusts the way a user's machine would: through SSL_CERT_FILE.
"""

from __future__ import annotations

import ssl

from .server import SandboxServer


def serve_over_tls(server: SandboxServer, certificate_chain: str, private_key: str) -> str:
    """Make a sandbox that has not started yet answer over TLS only; returns its https:// URL.

    The handshake runs when a connection is accepted, and a client that refuses the certificate
    only ends its own connection: the server goes on serving.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate_chain, private_key)
    httpd = server._httpd
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    return "https" + server.url.removeprefix("http")
