"""Settings: where they come from (flag > environment > profile > default) and the paths we keep
files in (platformdirs)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UsageError

APP_NAME = "memberships-cli"
DEFAULT_API_URL = "https://api.bird.com"
DEFAULT_TIMEOUT = 30.0
DEFAULT_PROFILE = "default"


def config_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME))


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME))


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
    if parts.query or parts.fragment:
        raise UsageError(f"invalid API URL {url!r}: it must not have a query or fragment")
    return url.strip().rstrip("/")


def parse_timeout(value: str | float, source: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"invalid timeout {value!r} from {source}: expected seconds, e.g. 30") from None
    if not 0 < seconds <= 3600:
        raise UsageError(f"invalid timeout {value!r} from {source}: expected more than 0 and at most 3600 seconds")
    return seconds


@dataclass
class Settings:
    api_url: str = DEFAULT_API_URL
    timeout: float = DEFAULT_TIMEOUT
    profile: str = DEFAULT_PROFILE
    default_format: str | None = None
    api_url_source: str = "default"


def load_settings(
    *,
    api_url: str | None = None,
    timeout: float | None = None,
    profile: str | None = None,
    environ: dict | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    settings = Settings()
    settings.profile = profile or env.get("MEMBERSHIPS_PROFILE") or DEFAULT_PROFILE
    if api_url:
        settings.api_url, settings.api_url_source = api_url, "--api-url"
    elif env.get("MEMBERSHIPS_API_URL"):
        settings.api_url, settings.api_url_source = env["MEMBERSHIPS_API_URL"], "MEMBERSHIPS_API_URL"
    if timeout is not None:
        settings.timeout = parse_timeout(timeout, "--timeout")
    elif env.get("MEMBERSHIPS_TIMEOUT"):
        settings.timeout = parse_timeout(env["MEMBERSHIPS_TIMEOUT"], "MEMBERSHIPS_TIMEOUT")
    settings.api_url = validate_api_url(settings.api_url)
    return settings
