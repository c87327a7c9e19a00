"""Long tables on a terminal go through a pager, the way gh does it: MEMBERSHIPS_PAGER, then PAGER,
then `less -FRX`; an empty value or `cat` turns it off. Never when stdout is not a terminal."""

from __future__ import annotations

import shutil

DEFAULT_PAGER = "less -FRX"


def pager_command(environ) -> list[str] | None:
    """The pager's argv, or None when paging is off."""
    import shlex

    for name in ("MEMBERSHIPS_PAGER", "PAGER"):
        if name in environ:
            value = environ[name]
            break
    else:
        value = DEFAULT_PAGER
    try:
        argv = shlex.split(value)
    except ValueError:
        return None
    if not argv or argv == ["cat"]:
        return None
    return argv


def page(app, text: str) -> None:
    """Write `text` to stdout: through the pager when a person reads it and it is taller than the
    terminal, else directly. A pager that cannot start means direct output; one that quits before
    reading everything (q in less) is what the person wanted, not an error."""
    argv = pager_command(app.environ) if app.stdout_isatty else None
    if argv is None or text.count("\n") < shutil.get_terminal_size((100, 24)).lines:
        app.stdout.write(text)
        return
    import signal
    import subprocess

    env = dict(app.environ)
    # What gh sets: less and lv keep colours and quit at once when everything fits.
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    app.stdout.flush()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    except OSError as exc:
        app.log(f"* pager {argv[0]!r} did not start ({exc.strerror or exc}); writing directly")
        app.stdout.write(text)
        return
    # Ctrl-C belongs to the pager while it runs (less uses it to stop a search).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
    try:
        assert proc.stdin is not None
        try:
            encoding = getattr(app.stdout, "encoding", None) or "utf-8"
            proc.stdin.write(text.encode(encoding, errors="backslashreplace"))
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # the pager quit early
        proc.wait()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
