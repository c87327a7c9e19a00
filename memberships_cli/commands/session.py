"""login, logout, status: the token's way in, out, and a look at where it comes from."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import AuthError, CliError, UsageError
from ._common import JqOption, use_jq

PIPE_EXAMPLE = "printf '%s' \"$TOKEN\" | memberships login --with-token"


def _read_hidden(app, prompt: str) -> str:
    """A line from the terminal on stdin with echo off; the prompt goes to stderr.

    Not getpass: it talks to /dev/tty, which is not always the terminal on stdin (and not there at
    all for a process without a controlling terminal).
    """
    try:
        import termios
    except ImportError:  # Windows: getpass reads the console without echo
        import getpass

        return getpass.getpass(prompt, stream=app.stderr)
    fd = app.stdin.fileno()
    saved = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~termios.ECHO
    # Echo goes off before the prompt shows, so nothing typed after it can appear on screen.
    termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
    try:
        app.stderr.write(prompt)
        app.stderr.flush()
        return app.stdin.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        app.stderr.write("\n")
        app.stderr.flush()


def _pipe_example(app) -> str:
    """PIPE_EXAMPLE with this run's global options (--profile, --api-url)."""
    return f"printf '%s' \"$TOKEN\" | {app.command_hint('login --with-token')}"


def _check_token_source(app, with_token: bool) -> None:
    """Usage errors about where the token would come from, before anything else is tried."""
    if with_token and app.stdin_isatty:
        raise UsageError(
            "--with-token reads the token from a pipe, but stdin is a terminal (what you type would show)",
            f"pipe it in: `{_pipe_example(app)}`, or run `{app.command_hint('login')}` to be asked for it with hidden input",
        )
    if not with_token and not app.stdin_isatty:
        raise UsageError(
            "stdin is not a terminal, so there is no one to ask for the token",
            f"pass it on stdin with --with-token: `{_pipe_example(app)}`",
        )


def _read_token(app, with_token: bool) -> str:
    from ..auth import clean_token

    _check_token_source(app, with_token)
    if with_token:
        try:
            text = app.stdin.read()
        except UnicodeDecodeError:
            raise UsageError("the token on stdin is not text", f"e.g. `{_pipe_example(app)}`") from None
        return clean_token(text, "stdin")
    return clean_token(_read_hidden(app, "Paste your Bird token (input hidden): "), "the prompt")


def check_token(client) -> dict | None:
    """Ask the API whether it accepts the token: GET /me, or, where an API has no /me (404), one
    membership. Returns the user when /me answered. AuthError when the token is rejected."""
    from ..errors import ApiError

    try:
        return client.get_me()
    except ApiError as exc:
        if exc.status != 404:
            raise
    client.list_page(limit=1)
    return None


def _who(user: dict | None) -> str:
    from ..output.escape import escape_control

    if user is None:
        return "(the API has no /me: the token was accepted by GET /me/memberships)"
    name, user_id = user.get("name"), user.get("id")
    text = str(name) if name else "a user without a name"
    if user_id:
        text += f" ({user_id})"
    return escape_control(text)


def _env_note(app, note: str) -> None:
    from ..auth import TOKEN_ENV

    if app.environ.get(TOKEN_ENV, "").strip():
        app.say(f"note: {TOKEN_ENV} is set and {note}")


# -- login -----------------------------------------------------------------------------------------


def login(
    ctx: typer.Context,
    with_token: Annotated[bool, typer.Option("--with-token", help=f"Read the token from stdin, e.g. `{PIPE_EXAMPLE}`.")] = False,
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage",
            help="Store the token in a plain file (mode 0600) in the config dir instead of the OS keyring. "
            "For machines without one; prefer MEMBERSHIPS_TOKEN in CI.",
        ),
    ] = False,
) -> None:
    """Store a token, checked with the API, in the OS keyring.

    The token is kept for this API host and profile. On a terminal you are asked for the token
    (input hidden); scripts pass it on stdin with --with-token. The token is never taken as an
    argument: it would show in `ps` and shell history. A token the API rejects is not stored
    (exit 4).
    """
    from ..auth import KeyringTimeout, KeyringUnavailable, Token

    app = ctx.obj
    if ctx.args:
        # Let through by the parser (allow_extra_args) so that its message cannot print the token back.
        raise UsageError(
            "`memberships login` takes no arguments: a token given as one shows in `ps` and shell "
            "history, so it was not used",
            f"pass it on stdin (`{_pipe_example(app)}`) or at the prompt; if that was a real token, consider it exposed",
        )
    if app.sandbox:
        raise UsageError(
            "--sandbox uses its own token: there is nothing to log in to (nothing was stored)",
            "drop --sandbox (or unset MEMBERSHIPS_SANDBOX) to log in to the real API",
        )
    store = app.token_store()
    if insecure_storage:
        store.check_file_directory()  # before the token is asked for, not after
    _env_note(app, "overrides the stored token: unset it to use the token you store now.")
    _check_token_source(app, with_token)
    if not insecure_storage:
        # Before the token is asked for, so nobody pastes it only to hear it cannot be kept. A
        # read has no side effects; a keyring that accepts and drops secrets (the null backend)
        # is still caught after the check with the API, when the token is read back.
        try:
            store.keyring_get()
        except KeyringUnavailable as exc:
            raise AuthError(f"no place to store the token (it was not read): {exc.message}", exc.hint) from None
    value = _read_token(app, with_token)
    app.use_token(Token(value, "login"))
    try:
        user = check_token(app.client())
    except AuthError as exc:
        raise AuthError(
            f"{exc.message}; nothing was stored",
            f"check that you pasted the whole token, and that it is for {store.host}",
        ) from None
    if insecure_storage:
        with store.locked():
            path = store.file_set(value)
            try:
                store.keyring_delete()  # an older keyring entry would take precedence over the file
            except KeyringUnavailable:
                pass  # no keyring, so nothing there to shadow the file
            except KeyringTimeout as exc:
                app.say(f"warning: {exc.message}: a token stored there earlier would take precedence over the file")
        app.say(
            f"warning: the token is stored unencrypted in {path} (readable only by you, mode 0600); "
            f"anyone with access to your account or its backups can use it. `{app.command_hint('logout')}` removes it."
        )
        where = f"the token file {path}"
    else:
        with store.locked():
            try:
                store.keyring_set(value)
            except KeyringUnavailable as exc:
                raise AuthError(f"the token was not stored: {exc.message}", exc.hint) from None
            where = "the OS keyring"
            if store.file_delete():
                where += f" (and removed the older token file {store.path})"
    app.say(f"✓ Logged in to {store.host} as {_who(user)}, profile {store.profile}; token stored in {where}.")
    _say_pending(app)


def _say_pending(app) -> None:
    """One line after a login: how many invitations wait, and how to accept them. One GET; a
    failure here is logged (-v) and never fails the login, which has already succeeded."""
    from ..client import PAGE_SIZE

    try:
        page = app.client().list_page(limit=PAGE_SIZE, status="invited")
    except CliError as exc:
        app.log(f"* could not count pending invitations: {exc.message}")
        return
    count = sum(1 for m in page.memberships if m.is_invitation)
    if count == 0:
        app.say("No pending invitations.")
        return
    more = "+" if page.next_page_token else ""
    them = "it" if count == 1 and not more else "them"
    app.say(f"{count}{more} pending invitation{'' if count == 1 and not more else 's'}: accept {them} with "
            f"`{app.command_hint('accept')}` (choose) or `{app.command_hint('accept --all')}`.")


# -- logout ----------------------------------------------------------------------------------------


def logout(ctx: typer.Context) -> None:
    """Forget the stored token of this API host and profile.

    Removes it from the OS keyring and the token file. Not being logged in is not an error. The
    token itself stays valid at Bird: this only removes it from this machine.
    """
    from ..auth import KeyringTimeout, KeyringUnavailable

    app = ctx.obj
    if app.sandbox:
        app.say("Nothing to log out of: --sandbox uses its own token; your stored token was not touched.")
        return
    store = app.token_store()
    removed = []
    pending: KeyringTimeout | None = None
    with store.locked():
        try:
            if store.keyring_delete():
                removed.append("the OS keyring")
        except KeyringUnavailable as exc:
            app.log(f"* {exc.message}")
        except KeyringTimeout as exc:
            pending = exc  # the file still goes; then the error
        if store.file_delete():
            removed.append(f"the token file {store.path}")
    if removed:
        app.say(f"✓ Logged out of {store.host}, profile {store.profile}: removed the token from {' and '.join(removed)}.")
    elif pending is None:
        app.say(f"Not logged in to {store.host}, profile {store.profile}: no stored token to remove.")
    _env_note(app, "still overrides: unset it too to stop using a token.")
    if pending is not None:
        raise pending


# -- status ----------------------------------------------------------------------------------------


def status(
    ctx: typer.Context,
    json_flag: Annotated[bool, typer.Option("--json", help="Print a JSON object instead (same exit codes).")] = False,
    jq: JqOption = None,
) -> None:
    """Show where the token comes from and whether it works.

    Shows the API URL, the profile and the token (masked: first 4 characters and length). Exit 0:
    the token works; 4: no token, or the API rejects it; 5: the API cannot be reached. Token
    sources, first found wins: MEMBERSHIPS_TOKEN > OS keyring > token file.
    """
    from ..auth import find_token, mask, not_logged_in

    app = ctx.obj
    json_flag = use_jq(app, jq) or json_flag
    if app.sandbox:
        token, sources = app.token(), None  # starts the sandbox; never reads the stored token
        problem = store = None
    else:
        store = app.token_store()
        lookup = find_token(app.environ, store, every_source=True)
        token, sources, problem = lookup.token, lookup.sources, lookup.problem
    report = {
        "apiUrl": app.settings.api_url,
        "apiUrlSource": app.settings.api_url_source,
        "profile": app.settings.profile,
        "tokenSource": token.source if token else None,
        "token": mask(token.value) if token else None,
        "valid": None,
        "user": None,
        "error": None,
        "sources": [s.to_json() for s in sources] if sources is not None else None,
    }
    error: CliError | None = None
    if token is None:
        error = problem or not_logged_in(store)
    else:
        app.use_token(token)
        try:
            user = check_token(app.client())
        except AuthError as exc:
            report["valid"], error = False, exc
        except CliError as exc:  # network (exit 5) or an API answer we cannot use (exit 1)
            error = exc
        else:
            report["valid"] = True
            if user is not None:
                report["user"] = {"id": user.get("id"), "name": user.get("name")}
    if error is not None:
        report["error"] = error.message
    if json_flag:
        from ..output.escape import dumps, narrow_encoding

        app.stdout.write(dumps(report, indent=2, ascii_only=narrow_encoding(app.stdout) is not None) + "\n")
    else:
        app.stdout.write(_render_status(report, user=report["user"]))
    app.stdout.flush()
    if error is not None:
        raise error


_SOURCE_NAMES = {"MEMBERSHIPS_TOKEN": "MEMBERSHIPS_TOKEN", "keyring": "OS keyring", "file": "token file"}


def _from(source: str) -> str:
    return "default" if source == "default" else f"from {source}"


def _render_status(report: dict, user: dict | None) -> str:
    from ..output.escape import escape_control

    source = report["tokenSource"]
    lines = [
        f"API URL:  {escape_control(report['apiUrl'])} ({_from(report['apiUrlSource'])})",
        f"Profile:  {report['profile']}",
    ]
    if source is None:
        lines.append("Token:    none")
    else:
        lines.append(f"Token:    {report['token']}, from {_SOURCE_NAMES.get(source, source)}")
    if report["sources"] is None:
        lines.append("          (the sandbox uses its own token; stored tokens are not read)")
    else:
        lines.append("Sources:  first found wins")
        for entry in report["sources"]:
            used = "  <- used" if entry["source"] == source else ""
            detail = f" ({escape_control(entry['detail'])})" if entry["detail"] else ""
            lines.append(f"  {_SOURCE_NAMES[entry['source']]:<18} {entry['state']}{detail}{used}")
    if source is None:
        lines.append("API:      not asked (no token)")
    elif report["valid"] is True:
        lines.append(f"API:      ✓ accepts the token; signed in as {_who(user)}")
    elif report["valid"] is False:
        lines.append(f"API:      ✗ {escape_control(report['error'])}")
    else:
        lines.append(f"API:      ✗ could not check the token: {escape_control(report['error'])}")
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    app.command("login", context_settings={"allow_extra_args": True})(login)
    app.command("logout")(logout)
    app.command("status")(status)
