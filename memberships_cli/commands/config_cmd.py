"""`memberships config`: see and change a profile's settings without editing the file by hand."""

from __future__ import annotations

from typing import Annotated

import typer

from ..config import DEFAULT_API_URL, PROFILE_KEYS
from ._common import complete_config_key, complete_config_value

config_app = typer.Typer(
    name="config",
    help="See and change profile settings (api_url, format). They live in the config file; "
    "select the profile with the global --profile NAME or MEMBERSHIPS_PROFILE.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

KEYS_HELP = f"One of: {', '.join(PROFILE_KEYS)}."
_DEFAULTS = {
    "api_url": DEFAULT_API_URL,
    "format": "table on a terminal, plain when piped",
}

_EXAMPLES = {
    "api_url": "e.g. `memberships config set api_url https://api.bird.com`",
    "format": "use one of: table, plain, json, jsonl, csv",
}


def _check_key(key: str) -> str:
    from ..errors import UsageError

    if key not in PROFILE_KEYS:
        raise UsageError(f"unknown setting {key!r}", f"settings are: {', '.join(PROFILE_KEYS)}")
    return key


def _override_note(app, key: str) -> None:
    """The config file is the last word only when no flag or environment variable speaks first."""
    source = app.settings.api_url_source
    if key == "api_url" and source in ("--api-url", "MEMBERSHIPS_API_URL"):
        app.say(f"note: {source} overrides api_url of the profile in this shell.")


@config_app.command("path")
def path_cmd(ctx: typer.Context) -> None:
    """Print where the config file is (it may not exist yet)."""
    from ..config import config_file

    print(config_file(), file=ctx.obj.stdout)


@config_app.command("list")
def list_cmd(
    ctx: typer.Context,
    all_profiles: Annotated[bool, typer.Option("--all", help="Every profile, as PROFILE.KEY=VALUE.")] = False,
    json_flag: Annotated[bool, typer.Option("--json", help="A JSON object of the settings; with --all, one object per profile, by name.")] = False,
) -> None:
    """Print the settings stored for the profile, as KEY=VALUE lines."""
    import json

    from ..config import config_file, read_config
    from ..output.escape import narrow_encoding

    app = ctx.obj
    ascii_only = narrow_encoding(app.stdout) is not None
    path = config_file()
    profiles = read_config(path)
    if all_profiles:
        if json_flag:
            app.stdout.write(json.dumps(profiles, ensure_ascii=ascii_only, indent=2) + "\n")
        else:
            for name, table in sorted(profiles.items()):
                for key, value in table.items():
                    app.stdout.write(f"{name}.{key}={value}\n")
        if not profiles:
            app.say(f"No profiles stored in {path}.")
        return
    table = profiles.get(app.settings.profile, {})
    if json_flag:
        app.stdout.write(json.dumps(table, ensure_ascii=ascii_only, indent=2) + "\n")
    else:
        for key, value in table.items():
            app.stdout.write(f"{key}={value}\n")
    if not table:
        app.say(f"No settings stored for profile {app.settings.profile} in {path}: defaults apply.")
    _override_note(app, "api_url")


@config_app.command("get")
def get_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help=KEYS_HELP, autocompletion=complete_config_key)],
) -> None:
    """Print one stored setting of the profile.

    Prints nothing (exit 0) when it is not set, and says on stderr what the default is.
    """
    from ..config import config_file, read_config

    app = ctx.obj
    _check_key(key)
    value = read_config(config_file()).get(app.settings.profile, {}).get(key)
    if value is None:
        app.say(f"{key} is not set for profile {app.settings.profile}; the default is {_DEFAULTS[key]}.")
    else:
        app.stdout.write(value + "\n")
    _override_note(app, key)


@config_app.command("set")
def set_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help=KEYS_HELP, autocompletion=complete_config_key)],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="api_url: https://HOST[/PATH]; format: table, plain, json, jsonl or csv.", autocompletion=complete_config_value)],
) -> None:
    """Store a setting for the profile.

    The profile is created if it is new; the value is checked before it is stored.
    """
    from ..config import config_file, update_config, validate_setting

    app = ctx.obj
    _check_key(key)
    value = validate_setting(key, value, hint=_EXAMPLES[key])
    path = config_file()

    def change(profiles: dict) -> bool:
        profiles.setdefault(app.settings.profile, {})[key] = value
        return True

    update_config(path, change)
    app.say(f"Set {key}={value} for profile {app.settings.profile} in {path}.")
    _override_note(app, key)


@config_app.command("unset")
def unset_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help=KEYS_HELP, autocompletion=complete_config_key)],
) -> None:
    """Remove a setting from the profile, so the default applies again."""
    from ..config import config_file, update_config

    app = ctx.obj
    _check_key(key)
    path = config_file()

    def change(profiles: dict) -> bool:
        return profiles.get(app.settings.profile, {}).pop(key, None) is not None

    if not update_config(path, change):
        app.say(f"{key} is not set for profile {app.settings.profile}: nothing to unset.")
        return
    app.say(f"Unset {key} for profile {app.settings.profile} in {path}; the default is {_DEFAULTS[key]}.")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app)
