"""`--jq EXPR`: filter what `--json` prints with a jq expression, like `gh --jq`, without an external
`jq` (Windows runners, slim containers).

The `jq` binding (a compiled libjq, ~12 ms to import) is imported here only, and this module only
when the flag is given. The expression sees exactly what `--json` prints: for `list`, the whole
array. Results are printed the way `gh --jq` prints them: a string raw (not quoted), any other value
as compact JSON, one per line.
"""

from __future__ import annotations

import json
import re
from typing import TextIO

from .errors import CliError, UsageError
from .output.escape import dumps, escape_control

JQ_MANUAL = "https://jqlang.github.io/jq/manual/"
# Our JSON escapes lone surrogates (\udXXX); libjq refuses them in its input.
_LONE_SURROGATE_ESCAPE = re.compile(r"\\ud[89a-f]", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _one_line(message: str) -> str:
    """libjq's messages span lines (the expression, a caret, a count): keep what says what is wrong."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return first.removeprefix("jq: error: ").strip().rstrip(":")


def compile_expression(expression: str):
    import jq

    try:
        return jq.compile(expression)
    except ValueError as exc:
        raise UsageError(f"invalid jq expression: {_one_line(str(exc))}", f"see {JQ_MANUAL}") from None


def _without_surrogates(value):
    """Lone surrogates become U+FFFD, as the jq program itself reads invalid text."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


class JqOutput:
    """Stands in for stdout: collects the JSON the command writes; `finish()` prints what the
    expression makes of it. Compiling happens at once, so a bad expression stops the command
    before it sends any request (exit 2)."""

    def __init__(self, expression: str, out: TextIO) -> None:
        self._program = compile_expression(expression)
        self._out = out
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        """Nothing reaches the real stdout before the whole document is there."""

    def isatty(self) -> bool:
        return self._out.isatty()

    def finish(self) -> None:
        text = "".join(self._parts)
        self._parts = []
        try:
            document = json.loads(text)
        except ValueError:
            # Nothing, or an unfinished array: the command failed and says why on stderr; a partial
            # document is never filtered as if it were whole.
            return
        if _LONE_SURROGATE_ESCAPE.search(text):
            document = _without_surrogates(document)
        tty = self.isatty()
        try:
            for value in self._program.input_value(document):
                if isinstance(value, str):
                    line = escape_control(value) if tty else value
                else:
                    line = dumps(value)
                self._out.write(line + "\n")
        except ValueError as exc:
            raise CliError(f"jq: {_one_line(str(exc))}", "compare the expression with what --json prints") from None
        finally:
            self._out.flush()
