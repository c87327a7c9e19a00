"""Cutting the token out of text before it is shown: the one scrubber every server-derived string
crosses (error messages, --verbose lines, JSON results).

A server can echo the token raw, percent-encoded (either case of hex digits, any mix of encoded
and plain characters, as a query string or a Location header carries it) or through form encoding,
where `+` stands for a space: a token's space sent as `+`, or its `+` read back as a space. One
regular expression, built once from the token, matches every one of these forms.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

PLACEHOLDER = "[token]"
# A JSON escape that spells a printable ASCII character (\u0041, \/, \", \\): the only way an
# ASCII token can hide in a JSON text without any of its forms appearing in the raw bytes.
_ASCII_ESCAPE = re.compile(rb'\\(?:u00[2-7][0-9a-fA-F]|[/"\\])')
_PLUS_AS_SPACE = bytes.maketrans(b"+", b" ")


def _char_pattern(char: str) -> str:
    """`char` as itself or as its %XX escapes (UTF-8, hex digits in either case)."""
    escaped = "".join(
        "%" + "".join(f"[{d.upper()}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02X}")
        for byte in char.encode("utf-8", "surrogatepass")
    )
    forms = [re.escape(char), escaped]
    if char == " ":
        forms.append(r"\+")
    elif char == "+":
        forms.append(" ")
    return "(?:" + "|".join(forms) + ")"


class Scrubber:
    """Replaces every form of one secret with [token]. A scrubber without a secret changes nothing."""

    def __init__(self, secret: str | None) -> None:
        pattern = "".join(map(_char_pattern, secret)) if secret else None
        self._pattern = re.compile(pattern) if pattern else None
        self._ascii = bool(secret) and secret.isascii() and secret.isprintable()
        # Every form, percent-decoded and with `+` and space made one: what may_hold looks for.
        self._folded = secret.encode("utf-8", "surrogatepass").translate(_PLUS_AS_SPACE) if secret else b""

    def __bool__(self) -> bool:
        return self._pattern is not None

    def found(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None

    def may_hold(self, data: bytes) -> bool:
        """Whether a JSON body may hold the secret, in any form, once parsed. A few byte searches,
        so that an ordinary page need not be walked string by string (a walk costs ~2 ms a page);
        False only when no string of it can need scrubbing."""
        if self._pattern is None:
            return False
        if not self._ascii or (b"\\" in data and _ASCII_ESCAPE.search(data)):
            return True
        if b"%" in data:
            data = unquote_to_bytes(data)
        return self._folded in data.translate(_PLUS_AS_SPACE)

    def text(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(PLACEHOLDER, text)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)

    def json(self, value: Any) -> Any:
        """A copy of a parsed JSON value with every string (keys too) scrubbed; the value itself
        when nothing in it needed scrubbing, so the common case allocates nothing."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            items = [self.json(item) for item in value]
            return value if all(a is b for a, b in zip(items, value)) else items
        if isinstance(value, dict):
            pairs = [(self.text(k), self.json(v)) for k, v in value.items()]
            if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items())):
                return value
            return dict(pairs)
        return value


def scrub_all(text: str, secrets) -> str:
    """`text` with every form of each of `secrets` (None and empty ones skipped) cut out."""
    for secret in secrets:
        if secret:
            text = Scrubber(secret).text(text)
    return text
