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

PLACEHOLDER = "[token]"


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
        # The same forms in raw bytes: a quick look at a whole body before it is parsed.
        self._bytes_pattern = re.compile(pattern.encode("utf-8", "surrogatepass")) if pattern else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def found(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None

    def found_bytes(self, data: bytes) -> bool:
        return self._bytes_pattern is not None and self._bytes_pattern.search(data) is not None

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
