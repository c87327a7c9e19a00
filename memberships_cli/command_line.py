"""The command line as a person types it, made into one click reads, and click's complaints about it
said in the CLI's own voice.

- `memberships help [COMMAND...]` is `memberships COMMAND... --help`;
- a global option typed after the command (`memberships list --sandbox`) moves before it, as gh
  does with its persistent flags; a value of the command's own options is never taken for one;
- an unknown command or a stray argument is refused here, with close matches;
- click's usage errors are reworded from their type and attributes, never from their text.

Pure Python on the click objects typer has already built, so it adds next to nothing to start-up.
"""

from __future__ import annotations

from typing import Any

from .errors import UsageError

HELP_COMMAND = "help"


def rewrite_help(args: list[str], command: str | None, commands) -> list[str]:
    """`help` alone is `--help`; `help COMMAND...` is `COMMAND... --help`. `help TOPIC` (and an
    unknown word) stays for the help command itself to answer. `command` is the command word of
    `args`; `commands`, the names of every command."""
    if command != HELP_COMMAND:
        return args
    at = args.index(HELP_COMMAND)
    if _wants_help(args[at + 1 :]):  # `help --help`: the help command's own help
        return args
    words = [a for a in args[at + 1 :] if not a.startswith("-")]
    if not words:
        return args[:at] + ["--help"] + args[at + 1 :]
    if words[0] in commands:
        return args[:at] + args[at + 1 :] + ["--help"]
    return args


class CommandLine:
    """What normalise() found: the arguments click reads, and the command they name.

    A plain class: @dataclass would cost ~2.5 ms of start-up on every run."""

    def __init__(self, root) -> None:
        self.args: list[str] = []  # what click reads
        self.path: list[str] = []  # the command's words, e.g. ["config", "set"]
        self.command = root  # the click command those words reach (the root when none)
        self.root = root
        self.global_args: list[str] = []  # the global options given, with their values
        self.unknown_option = False
        self.own_args_at = 0  # where the command's own arguments start in `args`

    @property
    def wants_help(self) -> bool:
        words = self.args[: self.args.index("--")] if "--" in self.args else self.args
        return _wants_help(words)

    @property
    def where(self) -> str:
        return " ".join(["memberships", *self.path])


def _options(command) -> dict[str, Any]:
    """Every spelling of the command's options -> the option (--help is not among click's params)."""
    found: dict[str, Any] = {}
    for param in command.params:
        if param.param_type_name == "option":
            for name in (*param.opts, *param.secondary_opts):
                found[name] = param
    return found


def _takes_value(option) -> bool:
    return option is not None and not option.is_flag and not option.count


def _option_at(arg: str, options: dict[str, Any]):
    """(the option `arg` names, whether its value is attached to it) for `--name`, `--name=value`,
    `-x` and `-xVALUE`; (None, False) when `arg` is none of the command's options."""
    if arg.startswith("--"):
        name, eq, _ = arg.partition("=")
        return options.get(name), bool(eq)
    if arg in options:
        return options[arg], False
    short = options.get(arg[:2])
    if short is not None and _takes_value(short):
        return short, True
    return None, False


def normalise(args: list[str], root) -> CommandLine:
    """Move the global options found after the command in front of it (values too), stopping at
    `--`; find the command's words on the way, and refuse an unknown command or a stray argument
    before click does (its messages name neither a close match nor the command)."""
    global_options = {name: opt for name, opt in _options(root).items() if not opt.is_eager}
    line = CommandLine(root)
    moved: list[str] = []
    rest: list[str] = []
    command = root
    options = _options(root)
    positionals = 0
    command_end = 0  # where the command's own words start in `rest`
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            positionals += len(args) - i - 1
            break
        if arg.startswith("-") and arg != "-":
            own, attached = _option_at(arg, options)
            if own is None and command is not root:
                glob, attached = _option_at(arg, global_options)
                if glob is not None:
                    wanted = 1 if attached or not _takes_value(glob) else 2
                    if i + wanted > len(args):
                        raise UsageError(f"{arg} needs a value", f"e.g. `{line.where} {arg} {glob.metavar or 'VALUE'}`")
                    taken = args[i : i + wanted]
                    moved.extend(taken)
                    line.global_args.extend(taken)
                    i += len(taken)
                    continue
            if own is None and arg not in ("--help", "-h"):
                line.unknown_option = True  # click names it, with close matches; that comes first
            width = 2 if _takes_value(own) and not attached and i + 1 < len(args) else 1
            if command is root and own is not None:
                line.global_args.extend(args[i : i + width])
            rest.extend(args[i : i + width])
            i += width
            continue
        subcommands = getattr(command, "commands", None)
        if subcommands is not None and not _wants_help(rest):
            sub = subcommands.get(arg)
            if sub is None:
                raise _unknown_command(arg, command, line)
            command, options = sub, _options(sub)
            line.path.append(arg)
            rest.append(arg)
            command_end = len(rest)
        else:
            positionals += 1
            rest.append(arg)
        i += 1
    line.command = command
    _check_positionals(command, positionals, rest[command_end:], line)
    line.args = moved + rest
    line.own_args_at = len(moved) + command_end
    return line


def _wants_help(args: list[str]) -> bool:
    return "--help" in args or "-h" in args


def _unknown_command(word: str, group, line: CommandLine) -> UsageError:
    from difflib import get_close_matches

    visible = [name for name, cmd in group.commands.items() if not cmd.hidden]
    close = get_close_matches(word, visible, n=3)
    if close:
        from .output.escape import escape_control

        prefix = escape_control(" ".join(["memberships", *line.global_args, *line.path]))
        hint = "did you mean " + " or ".join(f"`{prefix} {name}`" for name in close) + "?"
    else:
        hint = f"see `{line.where} --help`"
    return UsageError(f"unknown command {_shown(word)}", hint)


def _check_positionals(command, count: int, rest: list[str], line: CommandLine) -> None:
    if getattr(command, "commands", None) is not None or _wants_help(rest) or line.unknown_option:
        return
    if command.context_settings.get("allow_extra_args"):
        return  # the command reads them itself (`login` refuses them without printing a token back)
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    if any(p.nargs < 0 for p in arguments):
        return
    allowed = sum(p.nargs for p in arguments)
    if count > allowed:
        positional = _positional_words(rest, _options(command))
        extra = positional[allowed:] if len(positional) > allowed else positional[-1:]
        what = "argument" if len(extra) == 1 else "arguments"
        raise UsageError(f"unexpected {what} {' '.join(_shown(w) for w in extra)}", f"see `{line.where} --help`")


def _positional_words(rest: list[str], options: dict[str, Any]) -> list[str]:
    words, skip, after_dashes = [], False, False
    for arg in rest:
        if skip:
            skip = False
        elif after_dashes:
            words.append(arg)
        elif arg == "--":
            after_dashes = True
        elif arg.startswith("-") and arg != "-":
            own, attached = _option_at(arg, options)
            skip = _takes_value(own) and not attached
        else:
            words.append(arg)
    return words


def _shown(text: str) -> str:
    from .output.escape import escape_control

    return repr(escape_control(text))


# -- numbers on the command line ----------------------------------------------------------------


def _number_type():
    from typer._click.types import ParamType

    class Number(ParamType):
        """A whole or decimal number within bounds, described in words in help and errors
        (click's own range types print `1<=x<=32`)."""

        def __init__(self, minimum: float | None = None, maximum: float | None = None, *, whole: bool = True) -> None:
            self.minimum, self.maximum, self.whole = minimum, maximum, whole
            self.name = "whole number" if whole else "number"

        def describe(self) -> str:
            kind = "a whole number" if self.whole else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{kind} from {self.minimum:g} to {self.maximum:g}"
            if self.minimum is not None:
                return f"{kind} of at least {self.minimum:g}"
            if self.maximum is not None:
                return f"{kind} of at most {self.maximum:g}"
            return kind

        def convert(self, value: Any, param, ctx) -> Any:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number = value
            else:
                text = str(value).strip()
                try:
                    number = int(text) if self.whole else float(text)
                except ValueError:
                    self.fail(f"must be {self.describe()}, not {_shown(str(value))}", param, ctx)
                if number != number or number in (float("inf"), float("-inf")):
                    self.fail(f"must be {self.describe()}, not {_shown(str(value))}", param, ctx)
            if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
                self.fail(f"must be {self.describe()}, not {value}", param, ctx)
            return number

    return Number


def number(minimum: float | None = None, maximum: float | None = None, *, whole: bool = True):
    """The click type for a numeric option: `typer.Option(..., click_type=number(1, 32))`."""
    return _number_type()(minimum, maximum, whole=whole)


# -- click's usage errors, reworded ---------------------------------------------------------------


def _param_name(param) -> str:
    if param is None:
        return "a value"
    if param.param_type_name == "argument":
        return param.metavar or (param.name or "").upper()
    longest = max(param.opts, key=len)
    return longest


def describe(exc, line: CommandLine | None) -> tuple[str, str]:
    """(message, hint) for one of click's usage errors, in the voice of every other error."""
    from typer._click import exceptions as click_errors
    from typer._types import TyperChoice as Choice

    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else (line.where if line else "memberships")
    see = f"see `{where} --help`"
    if isinstance(exc, click_errors.NoSuchOption):
        if exc.possibilities:
            return f"unknown option {exc.option_name}", "did you mean " + " or ".join(sorted(exc.possibilities)) + "?"
        return f"unknown option {exc.option_name}", see
    if isinstance(exc, click_errors.MissingParameter):
        kind = "argument" if exc.param is not None and exc.param.param_type_name == "argument" else "option"
        return f"missing {kind} {_param_name(exc.param)}", see
    if isinstance(exc, click_errors.BadParameter):
        name = _param_name(exc.param)
        kind = getattr(exc.param, "type", None)
        if isinstance(kind, Choice):
            given = _given_value(exc.param, line)
            but = f", not {_shown(given)}" if given is not None else ""
            return f"{name} must be one of: {', '.join(str(c) for c in kind.choices)}{but}", see
        if hasattr(kind, "describe"):  # our Number: its message is already in our words
            return f"{name} {exc.message}", see
        return f"invalid value for {name}: {_sentence(exc.message)}", see
    if isinstance(exc, click_errors.BadOptionUsage):
        candidates = (line.command, line.root) if line else ()
        commands = [c for c in (*candidates, ctx.command if ctx else None) if c is not None]
        option = next((_options(c)[exc.option_name] for c in commands if exc.option_name in _options(c)), None)
        if option is not None and not _takes_value(option):
            return f"{exc.option_name} takes no value", see
        return f"{exc.option_name} needs a value", see
    return _sentence(exc.format_message()), see


def _given_value(param, line: CommandLine | None) -> str | None:
    """What was typed for an argument of the command (None when it cannot be told)."""
    if line is None or param is None or param.param_type_name != "argument":
        return None
    arguments = [p for p in line.command.params if p.param_type_name == "argument"]
    before = arguments[: arguments.index(param)] if param in arguments else None
    if before is None or any(p.nargs < 1 for p in before):
        return None
    words = _positional_words(line.args[line.own_args_at :], _options(line.command))
    index = sum(p.nargs for p in before)
    return words[index] if index < len(words) else None


def _sentence(text: str) -> str:
    """click's capitalised, full-stopped sentence as one of our lowercase messages."""
    text = text.strip().rstrip(".")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text
