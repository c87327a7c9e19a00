"""Everything that makes a server-supplied string safe to print: control characters escaped for a
terminal, JSON text that is lossless and safe to split into lines, CSV cells a spreadsheet will not
execute, and colour that only we add."""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

# C0 and C1 controls, DEL, zero-width and bidi-override characters: anything that could move the
# cursor, recolour the terminal, ring the bell or reorder what a person reads.
# Lone surrogates too: they cannot even be encoded for the terminal.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ud800-\udfff\ufeff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _escape_one(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """Make a server-supplied string safe for a terminal: unsafe characters become visible escapes."""
    return _UNSAFE.sub(_escape_one, text)


# Characters JSON may carry raw but a reader may trip on: C1 controls, the line and paragraph
# separators (they break `splitlines()`, so JSON Lines), and lone surrogates (not encodable as
# UTF-8 at all). JSON only has them inside strings, where a \uXXXX escape means the same.
_JSON_AWKWARD = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def dumps(obj: Any, *, ascii_only: bool = False, **kwargs: Any) -> str:
    """JSON as we print it: UTF-8 text kept readable, awkward characters escaped; lossless.

    `ascii_only`: every non-ASCII character as \\uXXXX, for a stream that cannot encode them all (see
    `narrow_encoding`). Still the same JSON, and readable whatever encoding the reader assumes.
    """
    text = json.dumps(obj, ensure_ascii=ascii_only, **kwargs)
    return _JSON_AWKWARD.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def narrow_encoding(stream: Any) -> str | None:
    """The encoding of `stream` when it cannot encode every character (`PYTHONIOENCODING=ascii`,
    latin-1, a legacy locale, Windows output to a file), else None. Such a stream is set up at
    start-up (cli.run) to print what it cannot encode as backslash escapes instead of failing."""
    encoding = getattr(stream, "encoding", None)
    if not isinstance(encoding, str):  # io.StringIO: text that never becomes bytes
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return None if name.startswith("utf") else name


def as_printed(text: str, encoding: str | None) -> str:
    """`text` as a stream in `encoding` set up by cli.run will show it: what it cannot encode, as
    backslash escapes. Lets a table measure the cells it will really print."""
    if encoding is None:
        return text
    return text.encode(encoding, "backslashreplace").decode(encoding)


_SURROGATES = re.compile("[\ud800-\udfff]")


# Spreadsheets execute cells starting with these (CSV injection); a leading apostrophe neutralises them.
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    if _SURROGATES.search(text):  # not encodable: the one place CSV cannot stay exact
        text = _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return "'" + text if text.startswith(_CSV_FORMULA_START) else text


_SGR = {"bold": "1", "dim": "2", "green": "32", "yellow": "33", "red": "31", "cyan": "36"}


def paint(text: str, style: str | None, enabled: bool) -> str:
    if not enabled or not style or not text:
        return text
    codes = ";".join(_SGR[s] for s in style.split())
    return f"\x1b[{codes}m{text}\x1b[0m"
