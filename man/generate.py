"""Write man/man1/memberships.1 from the CLI itself (the command tree `--help` prints).

    python man/generate.py           # rewrite it (after any change to help texts)
    python man/generate.py --check   # exit 1 if it drifted from the CLI

tests/test_manpage.py runs the check, so a help text changed without regenerating the page fails
the test suite. The wheel ships the page as share/man/man1/memberships.1 (pyproject.toml), where
`pipx install` and a venv's `man` look for it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from memberships_cli.manpage import render

PAGE = Path(__file__).resolve().parent / "man1" / "memberships.1"


def main(argv: list[str]) -> int:
    text = render()
    if argv == ["--check"]:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print("man/man1/memberships.1 drifted from the CLI; run `python man/generate.py`", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    PAGE.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote man/man1/{PAGE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
