"""Write the shell completion scripts in this folder, the fast completer's command table
(memberships_cli/completion_table.py) and the help texts answered before typer is imported
(memberships_cli/help_table.py), from the CLI itself.

    python completions/generate.py           # rewrite them
    python completions/generate.py --check   # exit 1, naming the stale files, if they drifted

tests/test_completion.py runs the check, so a change to the CLI that changes a script fails the
test suite until the scripts are regenerated and committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from memberships_cli.commands.completion import SCRIPT_FILES, help_table_source, script, table_source

HERE = Path(__file__).resolve().parent
TABLE = HERE.parent / "memberships_cli" / "completion_table.py"
HELP_TABLE = HERE.parent / "memberships_cli" / "help_table.py"


def wanted() -> dict[Path, str]:
    files = {HERE / name: script(shell) for shell, name in SCRIPT_FILES.items()}
    files[TABLE] = table_source()
    files[HELP_TABLE] = help_table_source()
    return files


def stale() -> list[str]:
    return [
        path.name
        for path, text in wanted().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
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
    for path, text in wanted().items():
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
