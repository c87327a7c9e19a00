"""Shell completion without typer or click: the answer to every Tab press.

Every Tab press starts the whole program, and importing typer (with its bundled click) costs ~6x
`python -c pass`; gh answers in ~3.5x (issue 12). So when the shell asks (`_MEMBERSHIPS_COMPLETE` is
set) the entry point (launch.py) comes here first. The command tree is read from completion_table.py,
which completions/generate.py writes from the typer app itself (a test fails when it drifts), and
the parsing below follows click's resilient parsing and typer's shell classes step by step, so the
answers are the ones typer gives: tests/test_completion.py runs both over a table of command lines.

Only the standard library's cheapest modules are imported here (no re, json, shlex or pathlib).
"""

from __future__ import annotations

import os

from . import completion_cache
from .completion_table import TREE, VALUES

COMPLETE_VAR = "_MEMBERSHIPS_COMPLETE"
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")

# Option fields in the table: (opts, secondary_opts, help, takes_value, multiple, hidden, name, kind)
OPTS, SECONDARY, HELP, TAKES_VALUE, MULTIPLE, HIDDEN, NAME, KIND = range(8)


class _Abort(Exception):
    """What click raises as a UsageError inside its parser: in resilient parsing it ends the
    parsing of options where it stands, and positional arguments are not assigned at all."""


# -- splitting the shell's line --------------------------------------------------------------------


def split_arg_string(string: str) -> list[str]:
    """click's split_arg_string (shlex in POSIX mode, whitespace_split, no comments, an unfinished
    quote or escape ending the last token as it stands), without importing shlex and its `re`."""
    out: list[str] = []
    token: list[str] = []
    in_token = False
    quote = ""
    chars = iter(string)
    for char in chars:
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                token.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\":
                escaped = next(chars, None)
                if escaped is None:
                    break
                # shlex keeps the backslash unless it escapes a quote or a backslash
                token.append(escaped if escaped in '"\\' else char + escaped)
            else:
                token.append(char)
        elif char in " \t\r\n":
            if in_token:
                out.append("".join(token))
                token, in_token = [], False
        elif char in "'\"":
            quote, in_token = char, True
        elif char == "\\":
            in_token = True
            escaped = next(chars, None)
            if escaped is None:
                break
            token.append(escaped)
        else:
            token.append(char)
            in_token = True
    if in_token:
        out.append("".join(token))
    return out


# -- click's parser, for one command ---------------------------------------------------------------


class _Context:
    def __init__(self, path: str, parent: "_Context | None") -> None:
        self.path = path
        self.node = TREE[path]
        self.parent = parent
        self.params: dict[str, object] = {}
        self.from_line: set[str] = set()  # ParameterSource.COMMANDLINE
        self.args: list[str] = []

    def root(self) -> "_Context":
        ctx = self
        while ctx.parent is not None:
            ctx = ctx.parent
        return ctx


def _parse(ctx: _Context, args: list[str]) -> None:
    node = ctx.node
    long_opts, short_opts = {}, {}
    for option in node["options"]:
        for opt in (*option[OPTS], *option[SECONDARY]):
            (short_opts if opt[1:2] != "-" else long_opts)[opt] = option
    opts: dict[str, object] = {}
    rargs, largs = list(args), []

    def take_value(option: tuple, name: str) -> None:
        if option[TAKES_VALUE]:
            if not rargs:
                raise _Abort
            value: object = rargs.pop(0)
            if option[MULTIPLE]:
                value = [*opts.get(option[NAME], ()), value]  # type: ignore[misc]
        else:
            value = name not in option[SECONDARY]
        opts[option[NAME]] = value

    def short(arg: str) -> None:
        prefix = arg[0]
        for i, char in enumerate(arg[1:], start=2):
            option = short_opts.get(prefix + char)
            if option is None:
                raise _Abort
            if option[TAKES_VALUE] and i < len(arg):
                rargs.insert(0, arg[i:])
                take_value(option, prefix + char)
                return
            take_value(option, prefix + char)

    try:
        while rargs:
            arg = rargs.pop(0)
            if arg == "--":
                break
            if arg[:1] == "-" and len(arg) > 1:
                name, eq, explicit = arg.partition("=")
                option = long_opts.get(name)
                if option is not None:
                    if eq:
                        if not option[TAKES_VALUE]:
                            raise _Abort
                        rargs.insert(0, explicit)
                    take_value(option, name)
                elif arg[:2] != "--":
                    short(arg)
                else:
                    raise _Abort
            elif not node["group"]:
                largs.append(arg)
            else:
                rargs.insert(0, arg)
                break
        arguments = node["arguments"]
        values, largs = _unpack(largs + rargs, [nargs for _, nargs, _ in arguments])
        for (name, _, _), value in zip(arguments, values):
            opts[name] = value
    except _Abort:
        pass
    for name, value in opts.items():
        if value is not None:
            ctx.from_line.add(name)
    ctx.params = opts
    ctx.args = largs


def _unpack(args: list[str], specs: list[int]) -> tuple[list[object], list[str]]:
    """click's _unpack_args for the shapes our commands have (single values, at most one nargs=-1):
    the values in order, and what is left over."""
    args = list(args)
    if -1 in specs:
        star = specs.index(-1)
        head = [args.pop(0) if args else None for _ in specs[:star]]
        tail = [args.pop() if args else None for _ in specs[star + 1:]][::-1]
        return [*head, tuple(args), *tail], []
    return [args.pop(0) if args else None for _ in specs], args


def _resolve_context(args: list[str]) -> _Context:
    ctx = _Context("", None)
    _parse(ctx, args)
    rest = ctx.args
    while rest and ctx.node["group"]:
        name = rest[0]
        path = f"{ctx.path} {name}".strip()
        if name not in ctx.node["command_names"] or path not in TREE:
            return ctx
        ctx = _Context(path, ctx)
        _parse(ctx, rest[1:])
        rest = ctx.args
    return ctx


# -- what to offer ---------------------------------------------------------------------------------


def _spellings(node) -> dict:
    return {name: option for option in node["options"] for name in (*option[OPTS], *option[SECONDARY])}


def _option_at(arg: str, options: dict):
    """command_line._option_at on the table: (the option `arg` names, whether its value is attached)."""
    if arg[:2] == "--":
        name, eq, _ = arg.partition("=")
        return options.get(name), bool(eq)
    if arg in options:
        return options[arg], False
    short = options.get(arg[:2])
    return (short, True) if short is not None and short[TAKES_VALUE] else (None, False)


def globals_first(args: list[str]) -> list[str]:
    """The global options typed after the command moved in front of it, values too, stopping at
    `--`, as command_line.normalise moves them before click parses a command line that runs; so
    `accept --sandbox <Tab>` offers the sandbox's slugs. typer's own completion does not move them
    (it never sees normalise): tests/test_completion.py compares this with typer's answer to the
    line as normalise makes it. One still waiting for its value stays where it is."""
    root = TREE[""]
    global_options = {name: option for name, option in _spellings(root).items() if option[NAME] not in ("help", "version")}
    node, options, path = root, _spellings(root), ""
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg[:1] == "-" and arg != "-":
            own, attached = _option_at(arg, options)
            if own is None and node is not root:
                glob, attached = _option_at(arg, global_options)
                wanted = 1 if glob is not None and (attached or not glob[TAKES_VALUE]) else 2
                if glob is not None and i + wanted <= len(args):
                    moved.extend(args[i : i + wanted])
                    i += wanted
                    continue
            width = 2 if own is not None and own[TAKES_VALUE] and not attached and i + 1 < len(args) else 1
            rest.extend(args[i : i + width])
            i += width
            continue
        sub = f"{path} {arg}".strip()
        if node["group"] and arg in node["command_names"] and sub in TREE:
            node, options, path = TREE[sub], _spellings(TREE[sub]), sub
        rest.append(arg)
        i += 1
    return moved + rest


def completions(args: list[str], incomplete: str, environ=os.environ) -> list[tuple[str, str | None]]:
    """(value, help) pairs, as click's ShellComplete.get_completions returns them."""
    args = globals_first(args)
    ctx = _resolve_context(args)
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and incomplete[:1] == "-":
        name, _, incomplete = incomplete.partition("=")
        args.append(name)
    if "--" not in args and incomplete[:1] == "-":
        return _command_items(ctx, incomplete)
    node = ctx.node
    last = args[-1] if args else ""
    if last[:1] == "-":
        for option in node["options"]:
            if option[TAKES_VALUE] and last in option[OPTS]:
                return _values(ctx, option[KIND], incomplete, environ)
        glob = _spellings(TREE[""]).get(last)
        if ctx.parent is not None and glob is not None and glob[TAKES_VALUE]:  # `accept --profile <Tab>`
            return _values(ctx, glob[KIND], incomplete, environ)
    for name, nargs, kind in node["arguments"]:
        if nargs == -1 or name not in ctx.from_line:
            return _values(ctx, kind, incomplete, environ)
    return _command_items(ctx, incomplete)


def _command_items(ctx: _Context, incomplete: str) -> list[tuple[str, str | None]]:
    node = ctx.node
    items = [(name, short_help) for name, short_help in node["commands"] if name.startswith(incomplete)]
    if incomplete and not incomplete[0].isalnum():
        for option in node["options"]:
            if option[HIDDEN] or (not option[MULTIPLE] and option[NAME] in ctx.from_line):
                continue
            items.extend((name, option[HELP]) for name in (*option[OPTS], *option[SECONDARY]) if name.startswith(incomplete))
    return items


def _values(ctx: _Context, kind, incomplete: str, environ) -> list[tuple[str, str | None]]:
    if kind is None:
        return []
    if isinstance(kind, tuple):  # a Choice type: ("choices", values)
        return [(value, None) for value in kind[1] if value.startswith(incomplete)]
    root = ctx.root().params
    # typer keeps only the values that start with what was typed, whatever the function returned.
    return [(value, None) for value in values_for(kind, incomplete, ctx.params, root, environ) if value.startswith(incomplete)]


def values_for(kind: str, incomplete: str, params: dict, root_params: dict, environ) -> list[str]:
    """The candidates for a value of `kind` (a name from VALUES, or org/org-invited/org-leavable),
    shared by this completer and the typer path (commands/_common.py), so both offer the same."""
    if kind == "fields":
        # A comma list: complete the part after the last comma, leave out the fields already named.
        head, comma, tail = incomplete.rpartition(",")
        named = set(head.split(",")) if comma else set()
        prefix = head + comma
        return [prefix + name for name in VALUES["fields"] if name.startswith(tail) and name not in named]
    if kind == "config-value":
        return [value for value in VALUES.get(f"config-value:{params.get('key')}", ()) if value.startswith(incomplete)]
    if kind in VALUES:
        return [value for value in VALUES[kind] if value.startswith(incomplete)]
    if kind.startswith("org"):
        scope = completion_scope(root_params, environ)
        if scope is None:
            return []
        statuses = {"org-invited": completion_cache.INVITATION_STATUSES, "org-leavable": completion_cache.LEAVABLE_STATUSES}
        typed = params.get("orgs") or params.get("org") or ()
        typed = (typed,) if isinstance(typed, str) else typed
        return [slug for slug in completion_cache.cached_slugs(scope, statuses=statuses.get(kind))
                if slug.startswith(incomplete) and slug not in typed]
    return []


_TRUE = ("1", "true", "t", "yes", "y", "on")


def completion_scope(root_params: dict, environ) -> str | None:
    """The cache scope the command line would run against: --sandbox (or MEMBERSHIPS_SANDBOX), else
    the API URL (--api-url > MEMBERSHIPS_API_URL > the profile's api_url > the default) and the
    profile (--profile > MEMBERSHIPS_PROFILE > default), as config.load_settings chooses them.
    None when the config file cannot be read: then nothing is offered rather than a wrong list."""
    # typer's path has MEMBERSHIPS_SANDBOX in the flag already (its envvar); ours reads it here.
    if root_params.get("sandbox") or environ.get("MEMBERSHIPS_SANDBOX", "").strip().lower() in _TRUE:
        return completion_cache.SANDBOX_SCOPE
    profile = root_params.get("profile") or environ.get("MEMBERSHIPS_PROFILE") or "default"
    api_url = root_params.get("api_url") or environ.get("MEMBERSHIPS_API_URL")
    if not api_url:
        api_url = _profile_api_url(profile)
        if api_url is None:
            return None
    return completion_scope_of(api_url, profile)


def completion_scope_of(api_url: str, profile: str) -> str:
    return completion_cache.scope_of(sandbox=False, api_url=api_url.strip(), profile=profile)


def _profile_api_url(profile: str) -> str | None:
    path = completion_cache.config_path()
    if not os.path.exists(path):
        return "https://api.bird.com"  # config.DEFAULT_API_URL, without importing config.py
    from pathlib import Path

    from .config import DEFAULT_API_URL, read_config
    from .errors import UsageError

    try:
        return read_config(Path(path)).get(profile, {}).get("api_url", DEFAULT_API_URL)
    except UsageError:  # a broken config file: `list` refuses it, so nothing was cached for it
        return None


# -- answering the shell ---------------------------------------------------------------------------


def _zsh_escape(text: str) -> str:
    return text.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")


def answer(shell: str, environ=os.environ) -> tuple[str | None, int]:
    """What typer's shell class prints for `complete_SHELL` (None: nothing) and the exit code."""
    if shell == "bash":
        words = split_arg_string(environ["COMP_WORDS"])
        cword = int(environ["COMP_CWORD"])
        args = words[1:cword]
        try:
            incomplete = words[cword]
        except IndexError:
            incomplete = ""
        return "\n".join(value for value, _ in completions(args, incomplete, environ)), 0
    line = environ.get("_TYPER_COMPLETE_ARGS", "")
    words = split_arg_string(line)
    if shell in ("powershell", "pwsh"):
        incomplete = environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        args = words[1:-1] if incomplete else words[1:]
        items = completions(args, incomplete, environ)
        return "\n".join(f"{value}:::{help if help else ' '}" for value, help in items), 0
    args = words[1:]
    if args and not line.endswith(" "):
        args, incomplete = args[:-1], args[-1]
    else:
        incomplete = ""
    items = completions(args, incomplete, environ)
    if shell == "zsh":
        if not items:
            return "_files", 0
        lines = [f'"{_zsh_escape(v)}":"{_zsh_escape(h)}"' if h else f'"{_zsh_escape(v)}"' for v, h in items]
        return "_arguments '*: :((" + "\n".join(lines) + "))'", 0
    action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
    if action == "is-args":
        return None, 0 if items else 1
    if action == "get-args" and items:
        return "\n".join(f"{v}\t{''.join(' ' if c.isspace() else c for c in h)}" if h else v for v, h in items), 0
    return "", 0


def run_from_environment() -> tuple[str, int] | None:
    """What to print to answer the shell, and the exit code; None when this request is not ours
    to answer (`source_bash` and the like, an unknown shell: typer's path prints its own message)."""
    instruction = os.environ.get(COMPLETE_VAR, "")
    action, _, shell = instruction.partition("_")
    if action != "complete" or shell not in SHELLS:
        return None
    try:
        text, code = answer(shell)
    except (KeyError, ValueError):  # a shell script that is not ours set half the variables
        return None
    return ("" if text is None else text + "\n"), code
