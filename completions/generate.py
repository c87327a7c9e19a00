"""Write the shell completion scripts in this folder from the CLI itself.

    python completions/generate.py           # rewrite them
    python completions/generate.py --check   # exit 1, naming the stale files, if they drifted

tests/test_completion.py runs the check, so a change to the CLI that changes a script fails the
test suite until the scripts are regenerated and committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from memberships_cli.commands.completion import SCRIPT_FILES, script

HERE = Path(__file__).resolve().parent


def stale() -> list[str]:
    return [
        name
        for shell, name in SCRIPT_FILES.items()
        if not (HERE / name).is_file() or (HERE / name).read_text(encoding="utf-8") != script(shell)
    ]


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        names = stale()
        if names:
            print(f"stale completion scripts: {', '.join(names)}; run `python completions/generate.py`", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    for shell, name in SCRIPT_FILES.items():
        (HERE / name).write_text(script(shell), encoding="utf-8", newline="\n")
        print(f"wrote completions/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
