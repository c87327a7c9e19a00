"""What `--help` teaches beyond each option's line: every command's Examples, the note that global
options also work after the command, and the `help environment` topic.

Plain strings, attached as click epilogs (Rich help cost ~2x the start-up of plain help, issue 7).
Every Example runs as it is against the sandbox (tests/test_help_examples.py runs each one), or says
what it needs in the comment above it.
"""

from __future__ import annotations

GLOBAL_NOTE = (
    "Global options (--sandbox, -v/--verbose, --no-color, --api-url, --profile, --timeout) "
    "may also come after the command; see `memberships --help`."
)

# Each command path -> its examples: a "# comment" line says what the next command does.
EXAMPLES: dict[str, str] = {
    "": """
        # try it on the bundled sandbox: no account needed
        memberships --sandbox list
        memberships --sandbox accept globex-retail
        # help on a command, and on the environment variables
        memberships help accept
        memberships help environment
    """,
    "list": """
        # your memberships and invitations (the sandbox: no account needed)
        memberships --sandbox list
        # pending invitations only, newest first
        memberships --sandbox list --status invited --reverse
        # chosen columns as CSV
        memberships --sandbox list --fields slug,name,status --format csv
        # the API's objects as JSON, for scripts
        memberships --sandbox list --json --limit 5
    """,
    "show": """
        memberships --sandbox show acme-logistics
        # by exact name, as JSON
        memberships --sandbox show "Globex Retail" --json
        memberships --sandbox show cafe-sao-paulo --fields slug,status,created
    """,
    "accept": """
        memberships --sandbox accept globex-retail
        # what --all would accept, without accepting anything
        memberships --sandbox accept --all --dry-run
        # every invitation whose slug or name matches
        memberships --sandbox accept --all --match 'cafe-*'
        # in a job: wait up to 2 minutes for the invitation to arrive
        memberships --sandbox accept wayne-freight --wait 2m --json
        # start the sandbox over
        memberships sandbox reset
    """,
    "leave": """
        # what would be left, without leaving
        memberships --sandbox leave acme-logistics --dry-run
        # without the question (required when stdin is not a terminal)
        memberships --sandbox leave initech-payments --yes
        # decline an invitation
        memberships --sandbox leave oscorp-materials --yes
    """,
    "login": """
        # needs a Bird access token (the sandbox has its own: nothing to log in to)
        # asks for it with the input hidden
        memberships login
        # from a script: the token on stdin, never as an argument
        printf '%s' "$TOKEN" | memberships login --with-token
        # where there is no OS keyring: a file only you can read
        memberships login --insecure-storage
    """,
    "logout": """
        memberships logout
        memberships --profile work logout
    """,
    "status": """
        memberships --sandbox status
        # in a script: exit 0 when the token works, 4 when it does not
        memberships status --json
    """,
    "completion": """
        memberships completion bash
        memberships completion zsh
    """,
    "config": """
        memberships config set format json
        memberships --profile work config set api_url https://api.bird.com
        memberships config list --all
    """,
    "config path": """
        memberships config path
    """,
    "config list": """
        memberships config list
        memberships --profile work config list --json
        memberships config list --all
    """,
    "config get": """
        memberships config get format
    """,
    "config set": """
        memberships config set format json
        memberships --profile work config set api_url https://api.bird.com
    """,
    "config unset": """
        memberships config unset format
    """,
    "sandbox": """
        # serve it to other programs; prints the exports that point them at it
        memberships sandbox serve
        # undo every accept and leave
        memberships sandbox reset
    """,
    "sandbox serve": """
        memberships sandbox serve
        # any free port, each answer half a second late
        memberships sandbox serve --port 0 --latency 0.5
        memberships sandbox serve --reset
    """,
    "sandbox reset": """
        memberships sandbox reset
    """,
    "help": """
        memberships help list
        memberships help config set
        memberships help environment
    """,
}

ENVIRONMENT = """\
Environment variables read by memberships (a flag, where there is one, wins):

  MEMBERSHIPS_TOKEN            the API token; wins over the stored one (CI,
                               scripts, containers)
  MEMBERSHIPS_API_URL          API base URL, like --api-url (default:
                               https://api.bird.com)
  MEMBERSHIPS_PROFILE          settings profile, like --profile (default:
                               default)
  MEMBERSHIPS_TIMEOUT          time limit of each try of a request, in seconds,
                               like --timeout (default: 30)
  MEMBERSHIPS_SANDBOX=1        like --sandbox: the bundled local API
  MEMBERSHIPS_SANDBOX_DB       the sandbox's SQLite file (default: in the user
                               data directory)
  MEMBERSHIPS_RETRIES          retries after the first try, 0 to 10 (default:
                               3; 0 turns retries off)
  MEMBERSHIPS_RETRY_MAX_WAIT   the longest single wait between tries, in
                               seconds (default: 30)
  MEMBERSHIPS_RETRY_MAX_TOTAL  the most time one request may spend waiting
                               between tries, in seconds (default: 60)
  MEMBERSHIPS_KEYRING_TIMEOUT  seconds to wait for the OS keyring before
                               giving up on it (default: 5)
  PYTHON_KEYRING_BACKEND       which keyring backend to use (keyring's own
                               setting)
  MEMBERSHIPS_PAGER, PAGER     the pager for long tables on a terminal, in
                               that order (default: less -FRX; empty or cat:
                               no pager)
  NO_COLOR                     any value: no colour, like --no-color
  FORCE_COLOR                  any value: colour even when output is piped
  XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_CACHE_HOME
                               where the config file, the sandbox's data and
                               the completion cache live (Linux)

`memberships config path` prints where the config file is.
"""


def examples(path: str) -> str | None:
    """The Examples block of a command's help, as a click epilog: `\\b` keeps its lines as typed."""
    text = EXAMPLES.get(path)
    if text is None:
        return None
    lines = [line.strip() for line in text.strip().splitlines()]
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def epilog(path: str) -> str:
    parts = [block for block in (examples(path), GLOBAL_NOTE) if block]
    return "\n\n".join(parts)


def attach(app) -> None:
    """Give every registered command and group its epilog (examples, then the global-options note),
    unless it already has one of its own."""

    def visit(typer_app, prefix: str) -> None:
        for info in typer_app.registered_commands:
            name = info.name or (info.callback.__name__ if info.callback else "")
            if not info.epilog:
                info.epilog = epilog(f"{prefix}{name}")
        for group in typer_app.registered_groups:
            sub = group.typer_instance
            if sub is None:
                continue
            name = group.name or sub.info.name
            if not sub.info.epilog:
                sub.info.epilog = epilog(f"{prefix}{name}")
            visit(sub, f"{prefix}{name} ")

    visit(app, "")


def fill_costly_help(command) -> None:
    """Write the help that costs an import to write, on the command whose help is about to show."""
    for param in command.params:
        if param.name == "fields":
            from .commands._common import fields_help

            param.help = fields_help()
