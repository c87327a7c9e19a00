"""Settings: where they come from (flag > environment > profile > default), the profiles kept in the
config file, and the paths we keep files in (platformdirs)."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from .errors import UsageError

APP_NAME = "memberships-cli"
DEFAULT_API_URL = "https://api.bird.com"
DEFAULT_TIMEOUT = 30.0
DEFAULT_PROFILE = "default"
CONFIG_FILE_NAME = "config.toml"
FORMATS = ("table", "plain", "json", "jsonl", "csv")
# Profile names end up in file names and keyring account names: keep them boring.
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def config_dir() -> Path:
    from .paths import user_dir  # platformdirs' answer; imports it only where it must (see paths.py)

    return Path(user_dir("user_config_dir"))


def data_dir() -> Path:
    from .paths import user_dir

    return Path(user_dir("user_data_dir"))


def cache_dir() -> Path:
    from .paths import user_dir

    return Path(user_dir("user_cache_dir"))


def config_file() -> Path:
    return config_dir() / CONFIG_FILE_NAME


def private_dir(path: Path) -> Path:
    """Create our directory `path` with mode 0700 if it is missing (missing parents, such as
    ~/.config, get the usual mode): the token, settings and caches are nobody else's business.
    An existing directory is left as it is; `unsafe_directory` says when that is a problem."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    return path


def unsafe_directory(path: Path, ours: tuple[Path, ...] = ()) -> tuple[str, str] | None:
    """Why another user could swap what `path` holds, as (problem, fix), or None when no one can.

    Like ssh's StrictModes: `path` and every directory above it, up to the home directory (or the
    root when `path` is not under it), must belong to us or root and must not be writable by group
    or others, unless its sticky bit stops them from renaming what is ours (/tmp). `ours` are the
    directories we create, whose fix is `chmod 700`; the others only need `chmod go-w`.
    POSIX only: Windows keeps permissions in ACLs, not mode bits.
    """
    if os.name != "posix":
        return None
    import stat

    try:
        home = Path.home().resolve()
    except RuntimeError:  # no HOME and no password entry: check up to the root
        home = None
    mine = {p.resolve() for p in ours}
    uid = os.getuid()
    current = path.resolve()
    while True:
        try:
            info = current.stat()
        except FileNotFoundError:
            info = None  # created 0700 by us when it is needed
        except OSError as exc:
            return f"{current} cannot be checked ({exc.strerror or exc})", f"check the permissions of {current}"
        if info is not None:
            if info.st_uid not in (uid, 0):
                return (
                    f"{current} belongs to another user (uid {info.st_uid})",
                    "use a directory of your own (XDG_CONFIG_HOME)",
                )
            mode = stat.S_IMODE(info.st_mode)
            if mode & 0o022 and not mode & stat.S_ISVTX:
                who = "other users" if mode & 0o002 else "its group"
                fix = f"chmod 700 {current}" if current in mine else f"chmod go-w {current}"
                return f"{current} is writable by {who} (mode {mode:04o})", f"run `{fix}`"
        if current == home or current.parent == current:
            return None
        current = current.parent


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_api_url(url: str) -> str:
    """Refuse, before any request, an API URL that would send the token in the clear or nowhere."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(
            f"invalid API URL {url!r}: expected https://HOST[/PATH]",
            "pass --api-url https://api.bird.com or unset MEMBERSHIPS_API_URL",
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"refusing plain http:// for {parts.hostname}: the token would travel unencrypted",
            "use https://, or http:// only for a loopback address such as 127.0.0.1",
        )
    if parts.username is not None or parts.password is not None:
        # httpx would send them as Basic auth in place of our Bearer token; never echo them back.
        raise UsageError(
            f"invalid API URL for {parts.hostname}: it must not carry a user name or password",
            "the token comes from `memberships login` or MEMBERSHIPS_TOKEN",
        )
    if parts.query or parts.fragment:
        raise UsageError(f"invalid API URL {url!r}: it must not have a query or fragment")
    try:
        parts.port
    except ValueError:
        raise UsageError(f"invalid API URL {url!r}: the port is not a number from 0 to 65535") from None
    return url.strip().rstrip("/")


def parse_timeout(value: str | float, source: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"invalid timeout {value!r} from {source}: expected seconds, e.g. 30") from None
    if not 0 < seconds <= 3600:
        raise UsageError(f"invalid timeout {value!r} from {source}: expected more than 0 and at most 3600 seconds")
    return seconds


def validate_profile_name(name: str, source: str) -> str:
    if not _PROFILE_NAME.fullmatch(name):
        raise UsageError(
            f"invalid profile name {name!r} from {source}",
            "use letters, digits, '.', '_' and '-' (at most 64 characters), starting with a letter or digit",
        )
    return name


# -- the config file -------------------------------------------------------------------------------


def _validate_format(value: str) -> str:
    if value not in FORMATS:
        raise UsageError(f"invalid format {value!r}", f"use one of: {', '.join(FORMATS)}")
    return value


# The settings a profile can hold, each with the function that checks (and normalises) a value.
PROFILE_KEYS = {
    "api_url": validate_api_url,
    "format": _validate_format,
}


def validate_setting(key: str, value: object, where: str | None = None, hint: str | None = None) -> str:
    """Check one profile setting; UsageError naming `where` (e.g. the file) if wrong. `hint`
    replaces the checker's own hint, which speaks of flags and environment variables."""
    place = f" in {where}" if where else ""
    if key not in PROFILE_KEYS:
        raise UsageError(f"unknown setting {key!r}{place}", f"settings are: {', '.join(PROFILE_KEYS)}")
    if not isinstance(value, str):
        raise UsageError(f"setting {key!r}{place} must be a string, not {type(value).__name__}", hint)
    try:
        return PROFILE_KEYS[key](value)
    except UsageError as exc:
        suffix = f" (setting {key!r}{place})" if where else ""
        raise UsageError(exc.message + suffix, hint or exc.hint) from None


def read_config(path: Path) -> dict[str, dict[str, str]]:
    """The profiles of the config file, {name: {key: value}}; {} when there is no file.

    Anything we do not understand is an error naming the file: a typo silently ignored would send
    requests, and the token, somewhere the person did not mean.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read the config file {path}: {exc.strerror or exc}") from None
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    fix = f"fix or remove {path} (`memberships config path` shows where it is)"
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"config file {path} is not UTF-8 text", fix) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}", fix) from None
    unknown = sorted(set(data) - {"profiles"})
    if unknown:
        raise UsageError(f"unknown key {unknown[0]!r} in config file {path}", "it may only hold [profiles.NAME] tables")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise UsageError(f"'profiles' in config file {path} must be a table of [profiles.NAME] tables", fix)
    result: dict[str, dict[str, str]] = {}
    for name, table in profiles.items():
        where = f"[profiles.{name}] of {path}"
        validate_profile_name(name, str(path))
        if not isinstance(table, dict):
            raise UsageError(f"profile {name!r} in config file {path} must be a table", fix)
        result[name] = {key: validate_setting(key, value, where, fix) for key, value in table.items()}
    return result


def write_config(path: Path, profiles: dict[str, dict[str, str]]) -> None:
    """Replace the config file atomically: a crash leaves the old file or the new one, never half."""
    import tomli_w

    text = "# memberships CLI settings; `memberships config --help` edits them.\n"
    kept = {name: table for name, table in sorted(profiles.items()) if table}
    if kept:
        text += tomli_w.dumps({"profiles": kept})
    import tempfile

    temporary = None
    try:
        private_dir(path.parent)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write the config file {path}: {exc.strerror or exc}") from None


def update_config(path: Path, change: Callable[[dict[str, dict[str, str]]], bool]) -> bool:
    """Read the profiles, let `change` edit them in place, and write them back if it returns True
    (which is returned in turn), all under a lock: two runs doing this at once (say `config set`
    for two profiles) take turns, so the second reads what the first wrote instead of undoing it."""
    from .lockfile import held

    try:
        private_dir(path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write the config file {path}: {exc.strerror or exc}") from None
    with held(path.parent / f".{path.name}.lock"):
        profiles = read_config(path)
        changed = change(profiles)
        if changed:
            write_config(path, profiles)
    return changed


# -- settings of one run ---------------------------------------------------------------------------


@dataclass
class Settings:
    api_url: str = DEFAULT_API_URL
    timeout: float = DEFAULT_TIMEOUT
    profile: str = DEFAULT_PROFILE
    default_format: str | None = None
    api_url_source: str = "default"
    profile_source: str = "default"


def load_settings(
    *,
    api_url: str | None = None,
    timeout: float | None = None,
    profile: str | None = None,
    environ: dict | None = None,
    use_config_file: bool = True,
) -> Settings:
    """Settings for this run. `use_config_file=False` skips the profile file, so that `config`
    commands still work (and can repair it) when it is broken."""
    env = os.environ if environ is None else environ
    settings = Settings()
    if profile:
        settings.profile, settings.profile_source = validate_profile_name(profile, "--profile"), "--profile"
    elif env.get("MEMBERSHIPS_PROFILE"):
        settings.profile = validate_profile_name(env["MEMBERSHIPS_PROFILE"], "MEMBERSHIPS_PROFILE")
        settings.profile_source = "MEMBERSHIPS_PROFILE"
    stored = read_config(config_file()).get(settings.profile, {}) if use_config_file else {}
    if api_url:
        settings.api_url, settings.api_url_source = api_url, "--api-url"
    elif env.get("MEMBERSHIPS_API_URL"):
        settings.api_url, settings.api_url_source = env["MEMBERSHIPS_API_URL"], "MEMBERSHIPS_API_URL"
    elif "api_url" in stored:
        settings.api_url, settings.api_url_source = stored["api_url"], f"profile {settings.profile}"
    settings.default_format = stored.get("format")
    if timeout is not None:
        settings.timeout = parse_timeout(timeout, "--timeout")
    elif env.get("MEMBERSHIPS_TIMEOUT"):
        settings.timeout = parse_timeout(env["MEMBERSHIPS_TIMEOUT"], "MEMBERSHIPS_TIMEOUT")
    settings.api_url = validate_api_url(settings.api_url)
    return settings
