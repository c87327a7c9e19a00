"""list, show, accept, leave: parse, call the client (through operations), hand results to output."""

from __future__ import annotations

from functools import partial
from typing import Annotated, List, Optional

import typer

from ..command_line import number
from ..errors import CliError, ExitCode, NotFoundError, UsageError, most_severe
from ._common import (FieldsOption, FormatOption, JqOption, JsonOption, choose_format, complete_invitation,
                      complete_leavable, complete_org, complete_status)

STATUS_HELP = (
    "Only memberships in this status, e.g. active, invited or banned (any value the API uses is passed on)."
)


def _app(ctx: typer.Context):
    return ctx.obj


def _writer(app, fmt: str, field_paths: tuple[str, ...], *, fields_given: bool):
    """The list writer for this run's stdout: its width, colour, and whether a person reads it."""
    from ..output.writers import list_writer

    return list_writer(fmt, app.stdout, field_paths, width=app.width, color=app.color_out,
                       fields_given=fields_given, escape_csv=app.stdout_isatty, emit=_pager(app))


def _pager(app):
    """Writes a table through the pager when a person reads a long one (see output.pager)."""
    from ..output.pager import page

    return lambda text: page(app, text)


def _warn_unknown_status(app, status: str | None) -> None:
    from ..models import INVITATION_STATUSES, KNOWN_STATUSES
    from ..output.escape import escape_control

    known = list(KNOWN_STATUSES) + sorted(INVITATION_STATUSES - set(KNOWN_STATUSES))
    if status is not None and status not in known:
        app.say(f"warning: {escape_control(status)!r} is not a status memberships knows ({', '.join(known)}); "
                "it was passed to the API as given")


def list_memberships(
    ctx: typer.Context,
    status: Annotated[Optional[str], typer.Option("--status", "-s", metavar="STATUS", help=STATUS_HELP, show_default=False, autocompletion=complete_status)] = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Newest first (the API's reverse order).")] = False,
    limit: Annotated[
        Optional[int],
        typer.Option("--limit", "-L", click_type=number(1), metavar="N", help="Stop after this many memberships, 1 or more (default: all pages).", show_default=False),
    ] = None,
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
    jq: JqOption = None,
    fields: FieldsOption = None,
) -> None:
    """List your memberships and pending invitations (every page)."""
    from .. import completion_cache
    from ..output.fields import parse_fields

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag, jq)
    field_paths = parse_fields(fields)
    _warn_unknown_status(app, status)
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
        # A failed listing keeps the rows it received and looks unfinished (see ListWriter.abandon).
        if completed:
            writer.close()
        else:
            writer.abandon()
    if writer.count == 0 and chosen == "table" and app.stdout_isatty:
        app.say("No memberships found." if status is None else f"No memberships with status {status!r}.")


def _resolve_one(app, org: str):
    from ..operations import resolve

    (res,) = resolve(app.client(), [org], list_command=app.command_hint("list"))
    if res.error is not None:
        raise res.error
    return res


def _interactive(app) -> bool:
    """A person at a terminal, who can be offered a choice: stdin and stdout are terminals."""
    return app.stdin_isatty and app.stdout_isatty


def show(
    ctx: typer.Context,
    org: Annotated[Optional[str], typer.Argument(metavar="ORG", help="Organization id, slug or exact name.", autocompletion=complete_org, show_default=False)] = None,
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
    jq: JqOption = None,
    fields: FieldsOption = None,
) -> None:
    """Show one membership in detail."""
    from ..output.fields import parse_fields
    from ..output.detail import render_detail

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag, jq)
    field_paths = parse_fields(fields)
    if org is None:
        if not _interactive(app):
            raise UsageError("missing argument ORG", f"name an organization, e.g. `{app.command_hint('show acme-logistics')}`")
        from ..output.menu import pick

        memberships, more = _offer(app.client(), lambda m: True)
        if not memberships:
            app.say("No memberships found.")
            raise typer.Exit(0)
        chosen_ones = pick(app, memberships, "Show which organization?", several=False,
                           note=_more_note(app, more, "show SLUG"))
        if not chosen_ones:
            app.say("Nothing chosen.")
            raise typer.Exit(0)
        org = chosen_ones[0].org_id
    res = _resolve_one(app, org)
    membership = app.client().get_membership(res.org_id)
    if chosen == "json":
        from ..output.escape import dumps, narrow_encoding
        from ..output.fields import project

        obj = project(membership.raw, field_paths) if fields is not None else membership.raw
        app.stdout.write(dumps(obj, indent=2, ascii_only=narrow_encoding(app.stdout) is not None) + "\n")
    elif chosen == "table" and fields is None:
        _pager(app)(render_detail(membership, color=app.color_out))
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
    "not-a-member": "✓ Not a member of {label}: nothing to leave",
}
# Past this many organizations, a person gets a table of results instead of a line for each, and
# a script's stderr gets failures and a summary.
_QUIET_OVER = 10


def _label(outcome) -> str:
    from ..output.escape import escape_control

    if outcome.membership is not None:
        return escape_control(outcome.membership.label)
    return escape_control(outcome.ref)


def _say_outcomes(app, outcomes, *, failures_only: bool) -> None:
    from ..output.escape import escape_control, paint

    for outcome in outcomes:
        if outcome.error is None:
            if not failures_only:
                message = _MESSAGES[outcome.result].format(label=_label(outcome))
                if outcome.result == "not-a-member" and outcome.org_id is None:
                    # --missing-ok took a name that matches nothing: left already, or a typo.
                    message += " (nothing in your list matches it: left already, or a typo?)"
                app.say(message)
        else:
            mark = paint("✗", "red", app.color_err)
            hint = f"; {outcome.error.hint}" if outcome.error.hint and not failures_only else ""
            app.say(f"{mark} {escape_control(outcome.ref)}: {escape_control(outcome.error.message + hint)}")


def _counts(outcomes) -> str:
    from collections import Counter

    return ", ".join(f"{n} {result}" for result, n in Counter(o.result for o in outcomes).items())


def _rerun_advice(app, outcomes, verb: str, rerun_safe: bool, retry_flags: str, *, hints_shown: bool) -> str:
    """What running again would do, said only where it is true.

    A re-run of `accept` (or of `leave --missing-ok`) is safe: what is done counts as done. A
    plain `leave` re-run would fail on what it left (the slug no longer resolves), so it gets the
    command for what is left instead. A name that matched no organization, or several, is not
    fixed by running again: its own line's hint says so, or (when lines were not shown) this does.
    """
    import shlex

    from ..errors import UsageError as Ambiguous
    from ..output.escape import escape_control

    failed = [o for o in outcomes if o.error is not None]
    unmatched = [o for o in failed if o.result == "not-found" and o.org_id is None or isinstance(o.error, Ambiguous)]
    retryable = [o for o in failed if o not in unmatched]
    parts = []
    if retryable:
        if rerun_safe:
            parts.append(f"Re-running the same command is safe: it only does what is left to {verb}.")
        else:
            refs = " ".join(shlex.quote(o.ref) for o in retryable)
            parts.append(f"To retry what is left: `{app.command_hint(f'{verb} {refs}{retry_flags}')}`.")
    if unmatched and not hints_shown:
        names = ", ".join(escape_control(o.ref) for o in unmatched)
        parts.append(f"Check {names} with `{app.command_hint('list')}`: a re-run alone will not find them.")
    return " ".join(parts)


def report(app, outcomes, fmt: str, verb: str, *, rerun_safe: bool = True, retry_flags: str = "") -> ExitCode:
    """Say what happened to each organization once, then one summary; return the run's exit code
    (the most severe of its outcomes).

    A person at a terminal (table format, stdout a terminal) gets a line per organization, or a
    table of results when there are many. Otherwise stdout carries the results as data in the
    chosen format (a single organization too) and stderr the messages.
    """
    from ..output.escape import escape_control
    from ..output.outcomes import write_outcomes

    person = fmt == "table" and app.stdout_isatty
    many = len(outcomes) > _QUIET_OVER
    if person and many:
        write_outcomes(fmt, app.stdout, outcomes, width=app.width, color=app.color_out, escape_csv=True,
                       emit=_pager(app))
    else:
        _say_outcomes(app, outcomes, failures_only=many)
        if not person:
            write_outcomes(fmt, app.stdout, outcomes, width=app.width, color=app.color_out,
                           escape_csv=app.stdout_isatty)
    app.stdout.flush()
    code = most_severe(o.exit_code for o in outcomes)
    failed = [o for o in outcomes if o.error is not None]
    hints_shown = not many  # a line per organization, each failure with its hint
    advice = _rerun_advice(app, outcomes, verb, rerun_safe, retry_flags, hints_shown=hints_shown) if failed else ""
    if person:
        if len(outcomes) > 1:
            not_done = f" Not done: {', '.join(escape_control(o.ref) for o in failed)}." if failed else ""
            app.say(" ".join(part for part in (f"Summary: {_counts(outcomes)}.{not_done}", advice) if part))
        elif advice:
            app.say(advice)
    else:
        if len(outcomes) > 1:
            app.say(f"Summary: {_counts(outcomes)}.")
        if failed and len(outcomes) > 1:
            done = len(outcomes) - len(failed)
            app.say(
                f"{done} of {len(outcomes)} done; not done: {', '.join(escape_control(o.ref) for o in failed)}."
                + (f" {advice}" if advice else "")
            )
    return code


def _run_bulk(app, func, resolutions, concurrency: int, dry_run: bool, verb: str):
    """Run `func` over every resolution on a thread pool sharing the one HTTP client; keep order.

    Threads over one sync httpx client measured 1.27x the ideal time at 8 workers; httpx's async
    client was 3-12x slower here (CPU-bound), so threads it is. Ctrl-C or SIGTERM cancels what has
    not started and waits for the answers to what is in flight; a second one stops waiting (those
    are reported as failed: they may have been applied). Returns (outcomes, interrupted).
    """
    from concurrent.futures import ThreadPoolExecutor, wait
    from queue import Empty, SimpleQueue

    from ..errors import Interrupted
    from ..operations import Outcome, not_done

    client = app.client(max_connections=max(concurrency, 1))
    outcomes: list = [None] * len(resolutions)
    progress = _progress(app, len(resolutions), verb)
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(resolutions))))
    futures = {}
    stop: KeyboardInterrupt | None = None
    abandoned = False
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
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (errors.Terminated)
        stop = exc
        pool.shutdown(wait=False, cancel_futures=True)
        if progress is not None:
            progress.close()
            progress = None
        in_flight = [future for future in futures if not future.done()]
        if in_flight:
            requests = "1 request" if len(in_flight) == 1 else f"{len(in_flight)} requests"
            app.say(f"Stopping: waiting for the answers to {requests} already sent; interrupt again to stop waiting.")
            try:
                while wait(in_flight, timeout=0.2).not_done:  # wakes up, so a second signal is never kept waiting
                    pass
            except KeyboardInterrupt:
                abandoned = True
        for future, index in futures.items():
            if future.done() and not future.cancelled() and outcomes[index] is None:
                outcomes[index] = future.result()
    finally:
        pool.shutdown(wait=not abandoned)  # abandoned threads end with the process (cli.run)
        if progress is not None:
            progress.close()
    if stop is None:
        return outcomes, False
    not_sent = Interrupted.by(stop, "{stopped} before it was sent")
    unanswered = Interrupted.by(
        stop, "{stopped} while waiting for the answer: it may have been applied; check with `"
        + app.command_hint("list").replace("{", "{{").replace("}", "}}") + "`"
    )
    sent = {index for future, index in futures.items() if not future.cancelled()}
    for i, res in enumerate(resolutions):
        if outcomes[i] is None:
            outcomes[i] = (Outcome(res.ref, "failed", res.org_id, res.membership, unanswered) if i in sent
                           else not_done(res, not_sent))
    return outcomes, True


# Spelled out: "leave" + "ing" is not a word.
_PROGRESS_LABELS = {"accept": "Accepting", "leave": "Leaving"}


class _Progress:
    """A Rich progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, app, total: int, verb: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=app.stderr, no_color=not app.color_err)
        self._progress = Progress(
            TextColumn(_PROGRESS_LABELS[verb]), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
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


def _finish(app, outcomes, interrupted: bool, fmt: str, verb: str, **advice) -> None:
    code = report(app, outcomes, fmt, verb, **advice)
    if interrupted:
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    raise typer.Exit(int(code))


def _wait_for(app, client, refs, all_mode: bool, patterns, wait_seconds: float):
    """List until every named organization (or, with --all, at least one matching invitation)
    is there, polling with backoff until `wait_seconds` are up. Returns what the last look found:
    the resolutions of `refs`, or the matching invitations. Each look reads the listing page by
    page and keeps only that."""
    import random
    import time

    from ..operations import members, pending_invitations, resolve

    deadline = time.monotonic() + wait_seconds
    delay = 1.0
    while True:
        if all_mode:
            found = pending_invitations(members(client.iter_pages()), patterns)
            missing = [] if found else ["an invitation"]
        else:
            found = resolve(client, refs, client.iter_pages(), list_command=app.command_hint("list"))
            missing = [r.ref for r in found if isinstance(r.error, NotFoundError)]
        left = deadline - time.monotonic()
        if not missing or left <= 0:
            return found
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
    concurrency: Annotated[int, typer.Option("--concurrency", click_type=number(1, 32), metavar="N", help="Invitations accepted at once, 1 to 32.")] = 8,
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
    jq: JqOption = None,
) -> None:
    """Accept pending invitations: one, several, or all of them.

    An already active membership counts as success, so re-running after a partial failure is safe
    and only does what is left. Exit 0 only when every requested organization ended up active.
    """
    from ..operations import accept_one, members, parse_duration, pending_invitations, resolve

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag, jq)
    if all_invitations and orgs:
        raise UsageError("pass either ORG... or --all, not both")
    picking = not all_invitations and not orgs and not wait_for and _interactive(app)
    if not all_invitations and not orgs and not picking:
        raise UsageError("name at least one organization to accept, or pass --all", f"e.g. `{app.command_hint('accept acme-logistics')}`")
    if match and not all_invitations:
        raise UsageError("--match goes with --all", "e.g. `" + app.command_hint("accept --all --match 'acme-*'") + "`")
    wait_seconds = parse_duration(wait_for) if wait_for is not None else None
    client = app.client(max_connections=concurrency)
    found = None
    if wait_seconds:
        found = _wait_for(app, client, orgs or [], all_invitations, match or [], wait_seconds)
    if all_invitations:
        invitations = found if found is not None else pending_invitations(members(client.iter_pages()), match or [])
        if not invitations:
            if wait_seconds:
                raise NotFoundError(f"no pending invitation{' matching ' + ', '.join(match) if match else ''} arrived within {wait_for}")
            app.say("No pending invitations" + (f" matching {', '.join(match)}." if match else "."))
            # Scripts get the shape they always get: [] in json (and for --jq), nothing in jsonl.
            _finish(app, [], False, chosen, "accept")
        from ..operations import Resolution

        resolutions = [Resolution(m.slug or m.org_id, m.org_id, m) for m in invitations]
    elif picking:
        resolutions = _pick(app, client, "accept", "Accept which invitations?")
    else:
        resolutions = found if found is not None else resolve(client, orgs, list_command=app.command_hint("list"))
    outcomes, interrupted = _run_bulk(app, accept_one, resolutions, concurrency, dry_run, "accept")
    _finish(app, outcomes, interrupted, chosen, "accept")


# A menu is read by a person: it offers the first this many, says there are more, and the listing
# is not read past them (it is kept whole while the person chooses).
MENU_MAX = 500


def _offer(client, wanted):
    """The first MENU_MAX memberships `wanted` keeps, and whether there are more."""
    from ..operations import members

    offered = []
    for m in members(client.iter_pages()):
        if wanted(m):
            if len(offered) == MENU_MAX:
                return offered, True
            offered.append(m)
    return offered, False


def _more_note(app, more: bool, example: str) -> str | None:
    if not more:
        return None
    return f"Only the first {MENU_MAX} are offered; name others by slug, e.g. `{app.command_hint(example)}`."


def _pick(app, client, verb: str, question: str):
    """Offer a person the organizations `verb` can act on; the chosen ones as resolutions.
    Exits 0 when there is nothing to offer or nothing was chosen."""
    from ..operations import Resolution
    from ..output.menu import pick

    if verb == "accept":
        offered, more = _offer(client, lambda m: m.is_invitation)
        nothing = "No pending invitations."
    else:
        offered, more = _offer(client, lambda m: True)
        nothing = "No memberships to leave."
    if not offered:
        app.say(nothing)
        raise typer.Exit(0)
    chosen = pick(app, offered, question, note=_more_note(app, more, f"{verb} SLUG"))
    if not chosen:
        app.say(f"Nothing chosen: nothing was {'accepted' if verb == 'accept' else 'left'}.")
        raise typer.Exit(0)
    return [Resolution(m.slug or m.org_id, m.org_id, m) for m in chosen]


def leave(
    ctx: typer.Context,
    orgs: LeaveOrgsArgument = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required without a terminal).")] = False,
    missing_ok: Annotated[
        bool,
        typer.Option("--missing-ok", help="An organization you are not a member of counts as done (result "
                     "not-a-member), so re-running is safe. A name or slug that matches nothing counts too: "
                     "you may have left it already."),
    ] = False,
    dry_run: DryRunOption = False,
    concurrency: Annotated[int, typer.Option("--concurrency", click_type=number(1, 32), metavar="N", help="Organizations left at once, 1 to 32.")] = 8,
    fmt: FormatOption = None,
    json_flag: JsonOption = False,
    jq: JqOption = None,
) -> None:
    """Leave organizations (or decline their invitations). Asks first unless --yes."""
    from ..operations import leave_one, resolve

    app = _app(ctx)
    chosen = choose_format(app, fmt, json_flag, jq)
    picking = not orgs and _interactive(app)
    if not orgs and not picking:
        raise UsageError("name at least one organization to leave", f"e.g. `{app.command_hint('leave acme-logistics --yes')}`")
    if not yes and not dry_run and not app.stdin_isatty:
        raise UsageError(
            "refusing to leave without confirmation: stdin is not a terminal",
            "pass --yes to leave without being asked",
        )
    client = app.client(max_connections=concurrency)
    if picking:
        resolutions = _pick(app, client, "leave", "Leave which organizations?")
    else:
        resolutions = resolve(client, orgs, list_command=app.command_hint("list"))
    if not yes and not dry_run:
        _confirm_leave(app, client, resolutions)
    outcomes, interrupted = _run_bulk(app, partial(leave_one, missing_ok=missing_ok), resolutions, concurrency, dry_run, "leave")
    flags = "".join(flag for flag, given in ((" --yes", yes), (" --dry-run", dry_run)) if given)
    _finish(app, outcomes, interrupted, chosen, "leave", rerun_safe=missing_ok, retry_flags=flags)


def _confirm_leave(app, client, resolutions) -> None:
    from ..output.escape import as_printed, escape_control, narrow_encoding

    names = []
    for res in resolutions:
        if res.error is not None:
            continue  # reported with the results; nothing to leave there
        if res.membership is None:
            try:
                res.membership = client.get_membership(res.org_id)
            except CliError:
                pass  # the leave itself will report it
        names.append(escape_control(res.membership.label if res.membership else res.ref))
    if not names:
        return
    what = names[0] if len(names) == 1 else f"{len(names)} organizations ({', '.join(names)})"
    # typer writes the prompt through its own stream wrapper, UTF-8 where stderr says ascii: hand
    # it the text stderr itself would print.
    what = as_printed(what, narrow_encoding(app.stderr))
    if not typer.confirm(f"Leave {what}?", default=False, err=True):
        # Answering no is a choice, not an error; the exit code (2) still tells a wrapper nothing happened.
        app.say("Nothing was left. (`--yes` skips this question.)")
        raise typer.Exit(int(ExitCode.USAGE))


def register(app: typer.Typer) -> None:
    app.command("list")(list_memberships)
    app.command("show")(show)
    app.command("accept")(accept)
    app.command("leave")(leave)
