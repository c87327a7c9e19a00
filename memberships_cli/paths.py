"""Where the app keeps its files: platformdirs' user directories, without importing platformdirs
where that is easy to get right.

platformdirs costs ~1.5x `python -c pass` to import (it pulls in pathlib and tempfile), paid by every
command that reads the config file and by every Tab press that reads the completion cache. On Linux
the answer is plain XDG: an absolute $XDG_*_HOME, else a folder under an absolute HOME. Anything
else (macOS, Windows, a relative HOME) asks platformdirs itself. tests/test_completion.py checks the
two agree.
"""

from __future__ import annotations

import os
import sys

APP_NAME = "memberships-cli"
_XDG = {
    "user_config_dir": ("XDG_CONFIG_HOME", ".config"),
    "user_data_dir": ("XDG_DATA_HOME", os.path.join(".local", "share")),
    "user_cache_dir": ("XDG_CACHE_HOME", ".cache"),
}


def user_dir(kind: str) -> str:
    """platformdirs.<kind>(APP_NAME), e.g. user_dir("user_cache_dir")."""
    if sys.platform.startswith("linux"):
        variable, default = _XDG[kind]
        base = os.environ.get(variable, "")
        if base.startswith("/"):
            return os.path.join(base, APP_NAME)
        home = os.environ.get("HOME", "")
        if home.startswith("/"):
            return os.path.join(home, default, APP_NAME)
    import platformdirs

    return getattr(platformdirs, kind)(APP_NAME)
