"""list, show, accept, leave: parse, call the client (through operations), hand results to output."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from ..errors import CliError, ExitCode, NotFoundError, UsageError, most_severe
from ._common import (FieldsOption, FormatOption, JsonOption, choose_format, complete_invitation, complete_leavable,
                      complete_org, complete_status)

STATUS_HELP = (
    "Only memberships in this status, e.g. active, invited or banned (any value the API uses is passed on)."
)


def _app(ctx: typer.Context):
    return ctx.obj


def _writer(app, fmt: str, field_paths: tuple[str, ...], *, fields_given: bool):
    """The list writer for this run's stdout: its width, colour, and whether a person reads it."""
    from ..output.writers import list_writer

    return list_writer(fmt, app.stdout, field_paths, width=app.width, color=app.color_out,
                       fields_given=fields_given, escape_csv=app.stdout_isatty)


def list_memberships(
    ctx: typer.Context,
    status: Annotated[Optional[str], typer.Option("--status", "-s", metavar="STATUS", help=STATUS_HELP, show_default=False, autocompletion=complete_status)] = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Newest first (the API's reverse order).")] = False,
    limit: Annotated[
        Optional[int],
        typer.Option("--limit", "-L", min=1, metavar="N", help="Stop after this many memberships (default: all pages).", show_default=False),
    ] = None,
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
    fields: FieldsOption = None,
) -> None:
    """List your memberships and pending invitations (every page)."""
    from .. import completion_cache
    from ..output.fields import parse_fields

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag)
    field_paths = parse_fields(fields)
    client = app.client()
    writer = _writer(app, chosen, field_paths, fields_given=fields is not None)
    completed = False
    try:
        pages = client.iter_pages(status=status, reverse=reverse, limit=limit)
        # The slug cache serves a person's Tab key: fill it when a person is at a terminal, not on
        # every scripted run (where it cost ~40 ms per 10,000 memberships).
        person = app.stdout_isatty or app.stderr_isatty
        scope = completion_cache.scope_of(sandbox=app.sandbox, api_url=app.settings.api_url, profile=app.settings.profile)
        for page in completion_cache.remember(pages, unfiltered=person and status is None and limit is None, scope=scope):
            writer.write_page(page)
        completed = True
    finally:
        # An unfinished JSON array is left open on purpose, so `| jq` fails loudly instead of
        # reading a partial list as a whole one; every other format keeps the rows it received.
        if completed or chosen != "json":
            writer.close()
    if writer.count == 0 and chosen == "table" and app.stdout_isatty:
        app.say("No memberships found." if status is None else f"No memberships with status {status!r}.")


def _resolve_one(app, org: str):
    from ..operations import resolve

    (res,) = resolve(app.client(), [org])
    if res.error is not None:
        raise res.error
    return res


def show(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(metavar="ORG", help="Organization id, slug or exact name.", autocompletion=complete_org)],
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
    fields: FieldsOption = None,
) -> None:
    """Show one membership in detail."""
    from ..output.fields import parse_fields
    from ..output.detail import render_detail

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag)
    field_paths = parse_fields(fields)
    res = _resolve_one(app, org)
    membership = app.client().get_membership(res.org_id)
    if chosen == "json":
        from ..output.escape import dumps
        from ..output.fields import project

        obj = project(membership.raw, field_paths) if fields is not None else membership.raw
        app.stdout.write(dumps(obj, indent=2) + "\n")
    elif chosen == "table" and fields is None:
        app.stdout.write(render_detail(membership, color=app.color_out))
    else:
        writer = _writer(app, chosen, field_paths, fields_given=fields is not None)
        writer.write_page([membership])
        writer.close()


# -- accept / leave ------------------------------------------------------------------------------

_MESSAGES = {
    "accepted": "✓ Accepted the invitation to {label}",
    "already-active": "✓ Already a member of {label}: nothing to accept",
    "would-accept": "Would accept the invitation to {label} (dry run)",
    "left": "✓ Left {label}",
    "would-leave": "Would leave {label} (dry run)",
}
# Past this many organizations, stderr gets failures and a summary instead of a line for each.
_QUIET_OVER = 10


def _label(outcome) -> str:
    from ..output.escape import escape_control

    if outcome.membership is not None:
        return escape_control(outcome.membership.label)
    return escape_control(outcome.ref)


def _say_outcomes(app, outcomes) -> None:
    from collections import Counter

    from ..output.escape import escape_control, paint

    many = len(outcomes) > _QUIET_OVER
    for outcome in outcomes:
        if outcome.error is None:
            if not many:
                app.say(_MESSAGES[outcome.result].format(label=_label(outcome)))
        else:
            mark = paint("✗", "red", app.color_err)
            hint = f"; {outcome.error.hint}" if outcome.error.hint and not many else ""
            app.say(f"{mark} {escape_control(outcome.ref)}: {escape_control(outcome.error.message + hint)}")
    if len(outcomes) > 1:
        counts = Counter(o.result for o in outcomes)
        app.say("Summary: " + ", ".join(f"{n} {result}" for result, n in counts.items()) + ".")


def report(app, outcomes, fmt: str, verb: str) -> ExitCode:
    """Print one line per organization (stderr for people, stdout data for scripts) and return the
    run's exit code: the most severe of its outcomes."""
    from ..output.escape import escape_control
    from ..output.outcomes import write_outcomes

    _say_outcomes(app, outcomes)
    write_outcomes(fmt, app.stdout, outcomes, width=app.width, color=app.color_out, escape_csv=app.stdout_isatty)
    app.stdout.flush()
    code = most_severe(o.exit_code for o in outcomes)
    failed = [o for o in outcomes if o.error is not None]
    if failed and len(outcomes) > 1:
        done = len(outcomes) - len(failed)
        app.say(
            f"{done} of {len(outcomes)} done; not done: {', '.join(escape_control(o.ref) for o in failed)}. "
            f"Re-running the same command is safe: it only does what is left to {verb}."
        )
    return code


def _run_bulk(app, func, resolutions, concurrency: int, dry_run: bool, verb: str):
    """Run `func` over every resolution on a thread pool sharing the one HTTP client; keep order.

    Threads over one sync httpx client measured 1.27x the ideal time at 8 workers; httpx's async
    client was 3-12x slower here (CPU-bound), so threads it is. Ctrl-C cancels what has not
    started, lets what is in flight finish, and reports both: (outcomes, interrupted).
    """
    from concurrent.futures import ThreadPoolExecutor
    from queue import Empty, SimpleQueue

    from ..errors import Interrupted
    from ..operations import not_done

    client = app.client(max_connections=max(concurrency, 1))
    outcomes: list = [None] * len(resolutions)
    progress = _progress(app, len(resolutions), verb)
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(resolutions))))
    futures = {}
    interrupted = False
    # Finished futures queue themselves: concurrent.futures.wait() re-arms every pending future on
    # each call, O(n^2) for n organizations, which cost ~0.6 ms of CPU (and of the GIL) per accept.
    finished: SimpleQueue = SimpleQueue()
    try:
        for index, res in enumerate(resolutions):
            future = pool.submit(func, client, res, dry_run)
            futures[future] = index
            future.add_done_callback(finished.put)
        for _ in range(len(futures)):
            while True:
                try:
                    future = finished.get(timeout=0.2)  # wakes up, so Ctrl-C is never kept waiting
                    break
                except Empty:
                    continue
            outcomes[futures[future]] = future.result()
            if progress is not None:
                progress.advance()
    except KeyboardInterrupt:
        interrupted = True
        pool.shutdown(wait=True, cancel_futures=True)
        for future, index in futures.items():
            if future.done() and not future.cancelled() and outcomes[index] is None:
                outcomes[index] = future.result()
    finally:
        pool.shutdown(wait=True)
        if progress is not None:
            progress.close()
    why = Interrupted("interrupted before it was sent")
    return [o if o is not None else not_done(resolutions[i], why) for i, o in enumerate(outcomes)], interrupted


class _Progress:
    """A Rich progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, app, total: int, verb: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=app.stderr, no_color=not app.color_err)
        self._progress = Progress(
            TextColumn(f"{verb.capitalize()}ing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True,
        )
        self._task = self._progress.add_task(verb, total=total)
        self._progress.start()

    def advance(self) -> None:
        self._progress.advance(self._task)

    def close(self) -> None:
        self._progress.stop()


def _progress(app, total: int, verb: str):
    if total < 2 or not app.stderr_isatty:
        return None
    return _Progress(app, total, verb)


def _finish(app, outcomes, interrupted: bool, fmt: str, verb: str) -> None:
    code = report(app, outcomes, fmt, verb)
    if interrupted:
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    raise typer.Exit(int(code))


def _wait_for(app, client, refs, all_mode: bool, patterns, wait_seconds: float):
    """List until every named organization (or, with --all, at least one matching invitation)
    is there, polling with backoff until `wait_seconds` are up. Returns the last listing."""
    import random
    import time

    from ..operations import pending_invitations, resolve

    deadline = time.monotonic() + wait_seconds
    delay = 1.0
    while True:
        memberships = [m for page in client.iter_pages() for m in page]
        if all_mode:
            missing = [] if pending_invitations(memberships, patterns) else ["an invitation"]
        else:
            missing = [r.ref for r in resolve(client, refs, memberships) if isinstance(r.error, NotFoundError)]
        left = deadline - time.monotonic()
        if not missing or left <= 0:
            return memberships
        nap = min(delay * random.uniform(0.8, 1.2), left)
        app.say(f"Waiting for {', '.join(missing)} to arrive ({left:.0f} s left; next look in {nap:.1f} s)…")
        time.sleep(nap)
        delay = min(delay * 2, 15.0)


OrgsArgument = Annotated[
    Optional[List[str]],
    typer.Argument(metavar="ORG...", help="Organization ids, slugs or exact names.", show_default=False, autocompletion=complete_invitation),
]
LeaveOrgsArgument = Annotated[
    Optional[List[str]],
    typer.Argument(metavar="ORG...", help="Organization ids, slugs or exact names.", show_default=False, autocompletion=complete_leavable),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Resolve and report what would be done; send no POST/DELETE.")]


def accept(
    ctx: typer.Context,
    orgs: OrgsArgument = None,
    all_invitations: Annotated[
        bool,
        typer.Option("--all", help="Accept every pending invitation: memberships whose status is 'invited' or 'pending'. "
                     "Unknown statuses are never taken for invitations."),
    ] = False,
    match: Annotated[
        Optional[List[str]],
        typer.Option("--match", metavar="GLOB", help="With --all: only organizations whose slug or name matches (repeatable), e.g. 'acme-*'.", show_default=False),
    ] = None,
    wait_for: Annotated[
        Optional[str],
        typer.Option("--wait", metavar="DURATION", help="If an invitation is not there yet, keep looking (with backoff) for up to DURATION, e.g. 30s or 5m; then exit 3.", show_default=False),
    ] = None,
    dry_run: DryRunOption = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=32, metavar="N", help="Invitations accepted at once.")] = 8,
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
) -> None:
    """Accept pending invitations: one, several, or all of them.

    An already active membership counts as success, so re-running after a partial failure is safe
    and only does what is left. Exit 0 only when every requested organization ended up active.
    """
    from ..operations import accept_one, parse_duration, pending_invitations, resolve

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag)
    if all_invitations and orgs:
        raise UsageError("pass either ORG... or --all, not both")
    if not all_invitations and not orgs:
        raise UsageError("name at least one organization to accept, or pass --all", "e.g. `memberships accept acme-logistics`")
    if match and not all_invitations:
        raise UsageError("--match goes with --all", "e.g. `memberships accept --all --match 'acme-*'`")
    wait_seconds = parse_duration(wait_for) if wait_for is not None else None
    client = app.client(max_connections=concurrency)
    memberships = None
    if wait_seconds:
        memberships = _wait_for(app, client, orgs or [], all_invitations, match or [], wait_seconds)
    if all_invitations:
        if memberships is None:
            memberships = [m for page in client.iter_pages() for m in page]
        invitations = pending_invitations(memberships, match or [])
        if not invitations:
            if wait_seconds:
                raise NotFoundError(f"no pending invitation{' matching ' + ', '.join(match) if match else ''} arrived within {wait_for}")
            app.say("No pending invitations" + (f" matching {', '.join(match)}." if match else "."))
            raise typer.Exit(0)
        from ..operations import Resolution

        resolutions = [Resolution(m.slug or m.org_id, m.org_id, m) for m in invitations]
    else:
        resolutions = resolve(client, orgs, memberships)
    outcomes, interrupted = _run_bulk(app, accept_one, resolutions, concurrency, dry_run, "accept")
    _finish(app, outcomes, interrupted, chosen, "accept")


def leave(
    ctx: typer.Context,
    orgs: LeaveOrgsArgument = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required without a terminal).")] = False,
    dry_run: DryRunOption = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=32, metavar="N", help="Organizations left at once.")] = 8,
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
) -> None:
    """Leave organizations (or decline their invitations). Asks first unless --yes."""
    from ..operations import leave_one, resolve

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag)
    if not orgs:
        raise UsageError("name at least one organization to leave", "e.g. `memberships leave acme-logistics --yes`")
    if not yes and not dry_run and not app.stdin_isatty:
        raise UsageError(
            "refusing to leave without confirmation: stdin is not a terminal",
            "pass --yes to leave without being asked",
        )
    client = app.client(max_connections=concurrency)
    resolutions = resolve(client, orgs)
    if not yes and not dry_run:
        _confirm_leave(app, client, resolutions)
    outcomes, interrupted = _run_bulk(app, leave_one, resolutions, concurrency, dry_run, "leave")
    _finish(app, outcomes, interrupted, chosen, "leave")


def _confirm_leave(app, client, resolutions) -> None:
    from ..output.escape import escape_control

    names = []
    for res in resolutions:
        if res.error is None and res.membership is None:
            try:
                res.membership = client.get_membership(res.org_id)
            except CliError:
                pass  # the leave itself will report it
        names.append(escape_control(res.membership.label if res.membership else res.ref))
    what = names[0] if len(names) == 1 else f"{len(names)} organizations ({', '.join(names)})"
    if not typer.confirm(f"Leave {what}?", default=False, err=True):
        raise UsageError("not left: confirmation declined", "pass --yes to skip the question")


def register(app: typer.Typer) -> None:
    app.command("list")(list_memberships)
    app.command("show")(show)
    app.command("accept")(accept)
    app.command("leave")(leave)
