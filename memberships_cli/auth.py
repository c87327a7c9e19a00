"""Where the token comes from. Precedence: MEMBERSHIPS_TOKEN > OS keyring > opt-in insecure file."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import AuthError

TOKEN_ENV = "MEMBERSHIPS_TOKEN"


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # "MEMBERSHIPS_TOKEN", "keyring", "file", "sandbox"


def mask(token: str) -> str:
    """Enough to recognise a token, never enough to use it: first 4 characters and the length."""
    return f"{token[:4]}… ({len(token)} characters)" if len(token) > 8 else f"… ({len(token)} characters)"


def find_token(api_url: str, profile: str, environ: dict | None = None) -> Token | None:
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_ENV, "").strip()
    if value:
        return Token(value, TOKEN_ENV)
    return None


def require_token(api_url: str, profile: str, environ: dict | None = None) -> Token:
    token = find_token(api_url, profile, environ)
    if token is None:
        raise AuthError(
            "not logged in: no token for " + api_url,
            "run `memberships login` or set MEMBERSHIPS_TOKEN; no account? try `memberships --sandbox list`",
        )
    return token
