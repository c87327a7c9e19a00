"""Shell completion: `memberships completion SHELL`, the scripts and the command table kept in
sync with the app, real bash completing commands, options, values and ORG slugs from the cache
(never the network), the fast completer giving typer's answers line for line, and the cache itself."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memberships_cli import completer, completion_cache, models
from memberships_cli.commands.completion import COMPLETE_VAR, SCRIPT_FILES, Shell
from memberships_cli.models import Membership
from memberships_cli.sandbox import SANDBOX_TOKEN, seed

from harness import ROOT, base_env

COMPLETIONS = ROOT / "completions"
BIN = str(Path(sys.executable).parent)  # where pip put the `memberships` script the shell calls


def env_for(home, sandbox) -> dict:
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    env.pop(COMPLETE_VAR, None)
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    return env


def sandbox_scope(sandbox) -> str:
    """The scope `list` keeps the sandbox fixture's organizations under (its URL, default profile)."""
    return completion_cache.scope_of(sandbox=False, api_url=sandbox.url, profile="default")


def bash_complete(home, sandbox, line: str) -> list[str]:
    """What bash offers after typing `line` and pressing Tab, with completions/memberships.bash loaded."""
    words = line.split(" ")  # a trailing space leaves an empty word: completing a new argument
    script = (
        f"source {COMPLETIONS / SCRIPT_FILES[Shell.bash]}\n"
        'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))\n'
        "_memberships_completion memberships\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", *words],
                          env=env_for(home, sandbox), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [word for word in proc.stdout.splitlines() if word]


# -- the command and the generated scripts ---------------------------------------------------------


@pytest.mark.parametrize("shell", [s.value for s in Shell])
def test_completion_prints_the_script_kept_in_completions(cli, shell):
    r = cli("completion", shell)
    assert r.code == 0, r
    assert r.stderr == ""
    kept = (COMPLETIONS / SCRIPT_FILES[Shell(shell)]).read_text(encoding="utf-8")
    assert r.stdout == kept, f"completions/ drifted from the CLI: run `python completions/generate.py`"
    assert COMPLETE_VAR in r.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error(cli):
    r = cli("completion", "tcsh")
    assert r.code == 2
    assert r.stdout == ""
    assert r.stderr == "error: SHELL must be one of: bash, zsh, fish, powershell, not 'tcsh'; see `memberships completion --help`\n"


def test_generator_check_passes_on_the_committed_scripts():
    proc = subprocess.run([sys.executable, str(COMPLETIONS / "generate.py"), "--check"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_generator_check_names_a_stale_script(tmp_path):
    """The check can fail: run it on a copy of completions/ with one script edited."""
    copy = tmp_path / "completions"
    copy.mkdir()
    for path in COMPLETIONS.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    (copy / SCRIPT_FILES[Shell.fish]).write_text("# edited by hand\n")
    proc = subprocess.run([sys.executable, str(copy / "generate.py"), "--check"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "memberships.fish" in proc.stderr and "memberships.bash" not in proc.stderr


# -- real bash ---------------------------------------------------------------------------------------


def test_bash_completes_commands_options_and_shells(home, sandbox):
    commands = bash_complete(home, sandbox, "memberships ")
    for command in ("list", "show", "accept", "leave", "completion", "sandbox"):
        assert command in commands
    assert bash_complete(home, sandbox, "memberships list --f") == ["--format", "--fields"]
    assert bash_complete(home, sandbox, "memberships completion ") == ["bash", "zsh", "fish", "powershell"]
    assert sandbox.requests == []


def test_bash_completes_org_slugs_from_the_last_full_list_without_the_network(cli, home, sandbox):
    assert bash_complete(home, sandbox, "memberships show glo") == []  # nothing cached yet
    assert cli("list", "--status", "invited").code == 0  # a filtered list does not fill the cache
    assert cli("list", "--limit", "3").code == 0  # nor does a capped one
    assert bash_complete(home, sandbox, "memberships show ") == []
    assert cli("list", "--format", "json").code == 0  # piped, no terminal: a script, not a person
    assert bash_complete(home, sandbox, "memberships show ") == []

    assert cli("list", "--format", "json", tty=True).code == 0
    sandbox.clear_requests()
    assert bash_complete(home, sandbox, "memberships show glo") == ["globex-retail"]
    assert bash_complete(home, sandbox, "memberships accept --dry-run w") == ["wayne-freight"]
    # Organizations already on the line are not offered again.
    assert bash_complete(home, sandbox, "memberships leave acme-logistics a") == []
    # accept offers invitations only; leave what can be left (not a ban, not an unknown status).
    statuses = {m["organization"]["slug"]: m["status"] for m in seed.memberships()}
    assert sorted(bash_complete(home, sandbox, "memberships accept ")) == sorted(
        slug for slug, status in statuses.items() if status in models.INVITATION_STATUSES)
    leavable = sorted(bash_complete(home, sandbox, "memberships leave "))
    assert leavable == sorted(slug for slug, status in statuses.items()
                              if status == models.ACTIVE_STATUS or status in models.INVITATION_STATUSES)
    assert "umbrella-health" not in leavable and "stark-analytics" not in leavable  # banned, unknown status
    assert len(bash_complete(home, sandbox, "memberships show ")) == len(seed.memberships())
    assert sandbox.requests == []  # completion never called the API


def test_the_cache_is_kept_per_api_url_and_profile(cli, home, sandbox):
    """Slugs listed against one API (or the sandbox) are never offered against another."""
    assert cli("list", tty=True).code == 0
    assert bash_complete(home, sandbox, "memberships show glo") == ["globex-retail"]
    assert bash_complete(home, sandbox, "memberships --profile work show glo") == []
    assert bash_complete(home, sandbox, "memberships --api-url https://api.bird.com show glo") == []
    assert bash_complete(home, sandbox, "memberships --sandbox show glo") == []
    assert bash_complete(home, sandbox, f"memberships --api-url {sandbox.url}/ show glo") == ["globex-retail"]
    # The bundled sandbox keeps its own entry, and the first one stays.
    assert cli("--sandbox", "list", "--limit", "1", tty=True).code == 0  # capped: saves nothing
    assert bash_complete(home, sandbox, "memberships --sandbox show glo") == []
    assert cli("--sandbox", "list", tty=True).code == 0
    assert bash_complete(home, sandbox, "memberships --sandbox show glo") == ["globex-retail"]
    assert bash_complete(home, sandbox, "memberships show glo") == ["globex-retail"]


def test_global_options_after_the_command_pick_the_scope_too(cli, home, sandbox):
    """`memberships show --sandbox glo<Tab>` runs against the sandbox, as `show --sandbox x` does."""
    assert cli("list", tty=True).code == 0  # the sandbox fixture's scope (its URL, default profile)
    assert bash_complete(home, sandbox, "memberships show --profile work glo") == []
    assert bash_complete(home, sandbox, "memberships show --api-url https://api.bird.com glo") == []
    assert bash_complete(home, sandbox, "memberships show --sandbox glo") == []
    assert bash_complete(home, sandbox, "memberships leave --api-url=https://api.bird.com -v a") == []
    assert bash_complete(home, sandbox, f"memberships leave -v --api-url {sandbox.url}/ a") == ["acme-logistics"]
    # A global option waiting for its value is not offered slugs for it.
    assert bash_complete(home, sandbox, "memberships accept --profile ") == []
    # An ORG typed before the global option is not offered again.
    assert bash_complete(home, sandbox, "memberships leave acme-logistics --verbose a") == []
    assert sandbox.requests[-1]["path"] == "/me/memberships"  # only the list above reached the API


def test_the_profile_api_url_from_the_config_file_picks_the_scope(cli, home, sandbox):
    assert cli("--profile", "work", "config", "set", "api_url", sandbox.url).code == 0
    env_without_url = {"MEMBERSHIPS_API_URL": ""}
    assert cli("--profile", "work", "list", tty=True, env=env_without_url).code == 0
    scope = completion_cache.scope_of(sandbox=False, api_url=sandbox.url, profile="work")
    path = home / "cache" / "memberships-cli" / completion_cache.FILE_NAME
    assert f"\t{scope}\n" in path.read_text()
    env = env_for(home, sandbox) | {"MEMBERSHIPS_API_URL": "", COMPLETE_VAR: "complete_bash",
                                    "COMP_WORDS": "memberships --profile work show glo", "COMP_CWORD": "4"}
    proc = subprocess.run([sys.executable, "-m", "memberships_cli"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout == "globex-retail\n", proc.stderr
    env["COMP_WORDS"] = "memberships show glo"  # the default profile points elsewhere
    env["COMP_CWORD"] = "2"
    proc = subprocess.run([sys.executable, "-m", "memberships_cli"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout == "\n", proc.stderr


def test_values_complete_where_the_set_is_known(home, sandbox):
    assert bash_complete(home, sandbox, "memberships list --format ") == ["table", "plain", "json", "jsonl", "csv"]
    assert bash_complete(home, sandbox, "memberships show -F js") == ["json", "jsonl"]
    assert bash_complete(home, sandbox, "memberships list --status ") == ["active", "invited", "pending", "banned"]
    assert bash_complete(home, sandbox, "memberships list --fields slug,st") == ["slug,status"]
    # A field already in the list is not offered again.
    fields = bash_complete(home, sandbox, "memberships list --fields slug,status,")
    assert "slug,status,name" in fields and not [f for f in fields if f.endswith((",slug", ",status"))]
    assert bash_complete(home, sandbox, "memberships config set ") == ["api_url", "format"]
    assert bash_complete(home, sandbox, "memberships config set format j") == ["json", "jsonl"]
    assert bash_complete(home, sandbox, "memberships config set api_url ") == ["https://api.bird.com"]
    assert bash_complete(home, sandbox, "memberships config get f") == ["format"]
    assert sandbox.requests == []


def test_the_known_statuses_agree_with_the_models():
    assert set(completion_cache.INVITATION_STATUSES) == models.INVITATION_STATUSES
    assert set(completion_cache.LEAVABLE_STATUSES) == {models.ACTIVE_STATUS, *models.INVITATION_STATUSES}


def test_a_stale_cache_offers_nothing(cli, home, sandbox):
    assert cli("list", tty=True).code == 0
    path = home / "cache" / "memberships-cli" / completion_cache.FILE_NAME
    header, stamp, *rest = path.read_text().split("\n")
    saved_at, _, scope = stamp[1:].partition("\t")
    assert scope == sandbox_scope(sandbox)
    path.write_text("\n".join([header, f"@{float(saved_at) - completion_cache.TTL_SECONDS - 1}\t{scope}", *rest]))
    assert bash_complete(home, sandbox, "memberships show glo") == []


def test_hostile_slugs_never_reach_the_shell(cli, home, sandbox):
    template = seed.memberships()[0]
    for index, slug in enumerate(["evil\nrm -rf ~", "evil$(reboot)", "evil\x1b[2J", "evil'quote", "-evil"]):
        org = dict(template["organization"], id=f"00000000-0000-4000-8000-00000000000{index}", slug=slug)
        sandbox.store.add(dict(template, organization=org))
    assert cli("list", tty=True).code == 0
    offered = bash_complete(home, sandbox, "memberships show ")
    assert len(offered) == len(seed.memberships())
    assert not [slug for slug in offered if "evil" in slug or "rm" in slug]


@pytest.mark.parametrize(
    "shell,extra,expected",
    [
        ("zsh", {"_TYPER_COMPLETE_ARGS": "memberships show glo"}, "_arguments '*: :((\"globex-retail\"))'"),
        ("fish", {"_TYPER_COMPLETE_ARGS": "memberships show glo", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
         "globex-retail"),
        ("powershell", {"_TYPER_COMPLETE_ARGS": "memberships show glo", "_TYPER_COMPLETE_WORD_TO_COMPLETE": "glo"},
         "globex-retail:::"),
    ],
)
def test_zsh_fish_and_powershell_get_their_answer_format(home, sandbox, shell, extra, expected):
    env = env_for(home, sandbox) | extra | {COMPLETE_VAR: f"complete_{shell}"}
    with patched_environ(env):
        completion_cache.save([("globex-retail", "invited"), ("acme-logistics", "active")], scope=sandbox_scope(sandbox))
    proc = subprocess.run([sys.executable, "-m", "memberships_cli"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == expected
    assert sandbox.requests == []


def test_a_completion_answer_exits_0_with_nothing_on_stderr(home, sandbox):
    env = env_for(home, sandbox) | {COMPLETE_VAR: "complete_bash", "COMP_WORDS": "memberships li", "COMP_CWORD": "1"}
    proc = subprocess.run([sys.executable, "-m", "memberships_cli"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout == "list\n"
    assert proc.stderr == ""
    assert proc.returncode == 0


@pytest.mark.parametrize("shell", ["zsh"])
def test_completion_with_help_texts_does_not_load_rich(home, sandbox, shell):
    """zsh and fish show each command's help beside it; that must not pull in Rich's console."""
    probe = (
        "import sys\nfrom memberships_cli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('rich')), file=sys.stderr)\n"
    )
    env = env_for(home, sandbox) | {COMPLETE_VAR: f"complete_{shell}", "_TYPER_COMPLETE_ARGS": "memberships ",
                                    "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    proc = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert "Show one membership in detail." in proc.stdout
    assert "rich.console" not in proc.stderr.splitlines()[-1]


# -- the fast completer gives typer's answers ---------------------------------------------------------

# Partial command lines: commands, options (long, short, given twice, after `--`, with `=`), option
# values, arguments, ORG slugs of every kind, nested groups, an unknown command and option, quotes.
LINES = [
    "memberships ", "memberships l", "memberships c", "memberships -", "memberships --", "memberships --s",
    "memberships --sandbox l", "memberships --sandbox --", "memberships -v -", "memberships --version ",
    "memberships --api-url ", "memberships --api-url=x --p", "memberships --timeout 3 list --f",
    "memberships list ", "memberships list -", "memberships list --f", "memberships list --format ",
    "memberships list --format j", "memberships list -F ", "memberships list -Fj", "memberships list --format=js",
    "memberships list --status ", "memberships list -s i", "memberships list --fields ",
    "memberships list --fields slug,st", "memberships list --fields slug,status,", "memberships list --limit 5 --",
    "memberships list --reverse -", "memberships list --json --json -", "memberships list -- -",
    "memberships list --bogus -", "memberships list --format", "memberships list \"--for",
    "memberships show ", "memberships show g", "memberships show globex-retail ", "memberships show globex-retail -",
    "memberships show -h ", "memberships accept ", "memberships accept a", "memberships accept globex-retail ",
    "memberships accept --all -", "memberships accept --match x --match y --", "memberships accept --wait ",
    "memberships leave ", "memberships leave -y ", "memberships leave acme-logistics ", "memberships --sandbox leave ",
    "memberships --profile work leave ", "memberships config ", "memberships config s", "memberships config -",
    "memberships config set ", "memberships config set f", "memberships config set format ",
    "memberships config set api_url ", "memberships config set format json ", "memberships config get ",
    "memberships config unset a", "memberships config list --", "memberships completion ", "memberships completion z",
    "memberships completion bash ", "memberships sandbox ", "memberships sandbox -", "memberships login --",
    "memberships status -", "memberships nosuch -", "memberships nosuch ", "memberships --bogus list -",
    "memberships 'list' --f", "memberships list 'glo",
]

# Global options after the command: typer's completion never sees command_line.normalise (which
# moves them in front before click parses a line that runs), the fast completer moves them too. So
# these lines are compared with typer's answer to the line as normalise makes it.
LINES_GLOBALS_AFTER = [
    "memberships list --sandbox --f", "memberships list --sandbox --format ", "memberships list -v -F ",
    "memberships list --timeout 3 --status ", "memberships list --api-url=x --fields slug,", "memberships show --sandbox ",
    "memberships show --profile work g", "memberships accept --sandbox ", "memberships accept --sandbox a",
    "memberships leave --sandbox acme-logistics ", "memberships leave acme-logistics --no-color a",
    "memberships leave -y --sandbox -", "memberships config set --sandbox format ", "memberships leave -- --sandbox ",
]


def normalised(line: str) -> str:
    """`line` with its global options moved as the CLI moves them (the word being typed stays last)."""
    import typer.main

    from memberships_cli.cli import build_app
    from memberships_cli.command_line import normalise

    *words, incomplete = line.split(" ")
    moved = normalise(words[1:], typer.main.get_command(build_app())).args
    return " ".join(["memberships", *moved, incomplete])


def shell_envs(line: str):
    words = line.split(" ")
    yield {COMPLETE_VAR: "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    yield {COMPLETE_VAR: "complete_zsh", "_TYPER_COMPLETE_ARGS": line}
    for action in ("get-args", "is-args"):
        yield {COMPLETE_VAR: "complete_fish", "_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": action}
    yield {COMPLETE_VAR: "complete_powershell", "_TYPER_COMPLETE_ARGS": line,
           "_TYPER_COMPLETE_WORD_TO_COMPLETE": words[-1]}


@contextlib.contextmanager
def patched_environ(env: dict):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def typer_command():
    import typer.main

    from memberships_cli.cli import build_app
    from memberships_cli.commands.completion import init_typer_completion

    init_typer_completion()
    return typer.main.get_command(build_app())


def typer_answer(command, env: dict) -> tuple[str, int]:
    """What typer's own machinery prints and returns: the slow path, in this process."""
    from typer.completion import shell_complete

    out = io.StringIO()
    with patched_environ(env), contextlib.redirect_stdout(out):
        try:
            code = shell_complete(command, {}, "memberships", COMPLETE_VAR, env[COMPLETE_VAR])
        except SystemExit as exc:  # fish's is-args answers with its exit code
            code = exc.code
    return out.getvalue(), code


def fast_answer(env: dict) -> tuple[str, int | None]:
    with patched_environ(env):
        answer = completer.run_from_environment()
    return answer if answer is not None else ("", None)


def same_answer(fast: str, slow: str) -> bool:
    """Equal, except that click lists -h and --help in the order of a set (it changes with each
    interpreter's hash seed): those two candidates may swap."""
    def normal(text: str) -> str:
        for form in ("{}", '"{}":"Show this message and exit."', "{}\tShow this message and exit.",
                     "{}:::Show this message and exit."):
            text = text.replace(f"{form.format('--help')}\n{form.format('-h')}", f"{form.format('-h')}\n{form.format('--help')}")
        return text

    return normal(fast) == normal(slow)


def test_the_fast_completer_answers_as_typer_does(typer_command, home, sandbox):
    env = env_for(home, sandbox)
    with patched_environ(env):
        completion_cache.save([(m["organization"]["slug"], m["status"]) for m in seed.memberships()],
                              scope=sandbox_scope(sandbox))
        completion_cache.save([("sandbox-only-org", "active")], scope=completion_cache.SANDBOX_SCOPE)
    compared = nonempty = 0
    for line in LINES:
        for shell_env in shell_envs(line):
            full = env | shell_env
            fast, slow = fast_answer(full), typer_answer(typer_command, full)
            assert fast[1] == slow[1] and same_answer(fast[0], slow[0]), (line, shell_env, fast, slow)
            compared += 1
            nonempty += bool(fast[0].strip()) and fast[0].strip() != "_files"
    assert compared == len(LINES) * 5 and nonempty > len(LINES) * 2  # most lines offer something
    assert sandbox.requests == []


def test_the_fast_completer_moves_global_options_as_the_cli_does(typer_command, home, sandbox):
    env = env_for(home, sandbox)
    with patched_environ(env):
        completion_cache.save([(m["organization"]["slug"], m["status"]) for m in seed.memberships()],
                              scope=sandbox_scope(sandbox))
        completion_cache.save([("sandbox-only-org", "active"), ("another-invite", "invited")],
                              scope=completion_cache.SANDBOX_SCOPE)
    nonempty = 0
    for line in LINES_GLOBALS_AFTER:
        moved = normalised(line)
        assert moved != line or "-- --sandbox" in line
        for shell_env, typer_env in zip(shell_envs(line), shell_envs(moved)):
            fast, slow = fast_answer(env | shell_env), typer_answer(typer_command, env | typer_env)
            assert fast[1] == slow[1] and same_answer(fast[0], slow[0]), (line, moved, shell_env, fast, slow)
            nonempty += bool(fast[0].strip()) and fast[0].strip() != "_files"
    assert nonempty > len(LINES_GLOBALS_AFTER) * 2
    fast = fast_answer(env | next(shell_envs("memberships accept --sandbox ")))
    assert fast == ("another-invite\n", 0)  # the sandbox's invitations, not the fixture's


def test_the_fast_completer_leaves_other_requests_to_typer(home, sandbox):
    for instruction in ("source_bash", "complete_tcsh", "bash_complete", "nonsense"):
        env = env_for(home, sandbox) | {COMPLETE_VAR: instruction, "COMP_WORDS": "memberships ", "COMP_CWORD": "1"}
        assert fast_answer(env) == ("", None)


@pytest.mark.parametrize("line", ["a b", "a  'b c' d", 'a "b\\"c" d', "a 'b", 'a "b', "a b\\", "a \\ b", 'a "x\\', "a ''",
                                  "a 'b'c\"d e\"", 'a "\\$x\\y"', "a\tb\nc"])
def test_the_line_is_split_as_click_splits_it(line):
    from typer._click.shell_completion import split_arg_string

    assert completer.split_arg_string(line) == split_arg_string(line)


@pytest.mark.parametrize("xdg", [None, "", "relative/dir", "/abs/dir"])
@pytest.mark.parametrize("home_dir", ["/home/someone", "relative-home"])
def test_the_apps_folders_are_platformdirs_own(monkeypatch, xdg, home_dir):
    import platformdirs

    from memberships_cli import config

    monkeypatch.setenv("HOME", home_dir)
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        if xdg is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, xdg)
    assert str(config.config_dir()) == platformdirs.user_config_dir("memberships-cli")
    assert str(config.data_dir()) == platformdirs.user_data_dir("memberships-cli")
    assert str(config.cache_dir()) == platformdirs.user_cache_dir("memberships-cli")
    assert completion_cache.cache_path() == os.path.join(platformdirs.user_cache_dir("memberships-cli"), completion_cache.FILE_NAME)
    assert completion_cache.config_path() == str(config.config_file())


def test_the_committed_table_is_the_apps():
    from memberships_cli.commands.completion import table_source

    table = ROOT / "memberships_cli" / "completion_table.py"
    assert table.read_text(encoding="utf-8") == table_source(), "run `python completions/generate.py`"


# -- the cache itself (unit) -----------------------------------------------------------------------


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "memberships-cli"


def pages_of(*slugs_per_page):
    return [[Membership({"organization": {"id": s, "slug": s}, "status": "active"}) for s in page] for page in slugs_per_page]


def test_remember_saves_only_when_the_listing_was_read_to_the_end(cache_home):
    pages = pages_of(["b-org", "a-org"], ["c-org"])
    stream = completion_cache.remember(iter(pages), scope="s")
    assert next(stream) is pages[0]
    assert completion_cache.cached_slugs("s") == []  # not before the end
    assert list(stream) == [pages[1]]
    assert completion_cache.cached_slugs("s") == ["a-org", "b-org", "c-org"]
    assert completion_cache.cached_slugs("another") == []
    assert [p.name for p in cache_home.iterdir()] == [completion_cache.FILE_NAME]  # no temporary left


def test_remember_passes_a_filtered_listing_through_untouched(cache_home):
    pages = pages_of(["a-org"])
    assert completion_cache.remember(pages, unfiltered=False, scope="s") is pages
    assert list(completion_cache.remember(iter(pages), unfiltered=False, scope="s")) == pages
    assert not cache_home.exists()


def test_an_interrupted_listing_saves_nothing(cache_home):
    def pages():
        yield pages_of(["a-org"])[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(completion_cache.remember(pages(), scope="s"))
    assert completion_cache.cached_slugs("s") == []


@pytest.mark.parametrize("content", ["", "{", '{"savedAt": NOW, "slugs": ["ok"]}', "memberships completion cache 1\n",
                                     "HEADER\n@x\ts\nok\tactive\n", "HEADER\n@nan\ts\nok\tactive\n",
                                     "HEADER\nok\tactive\n", "HEADER\n@NOW\ts\nok\tactive\nno way\tactive\n-no\n",
                                     "HEADER\n@NOW\ts\nok\tact ive\n"])
def test_a_damaged_cache_reads_as_empty(cache_home, content):
    cache_home.mkdir(parents=True)
    text = content.replace("NOW", str(time.time())).replace("HEADER", completion_cache.HEADER)
    (cache_home / completion_cache.FILE_NAME).write_text(text)
    assert completion_cache.cached("s") in ([], [("ok", "active")], [("ok", "")])


def test_entries_of_other_scopes_are_kept_until_stale(cache_home):
    now = 1_000_000.0
    completion_cache.save([("a-org", "active")], now=now, scope="https://api.example default")
    completion_cache.save([("b-org", "invited"), "c-org"], now=now + 5, scope="sandbox")
    assert completion_cache.cached("https://api.example default", now=now + 10) == [("a-org", "active")]
    assert completion_cache.cached("sandbox", now=now + 10) == [("b-org", "invited"), ("c-org", "")]
    completion_cache.save([("d-org", "active")], now=now + completion_cache.TTL_SECONDS + 1, scope="sandbox")
    text = (cache_home / completion_cache.FILE_NAME).read_text()
    assert "a-org" not in text and "b-org" not in text  # the stale entry went, and the replaced one
    completion_cache.save(["x-org"], now=now, scope="bad\nscope")  # never written: it would break the file
    assert "x-org" not in (cache_home / completion_cache.FILE_NAME).read_text()


def test_cache_ttl_and_future_timestamps(cache_home):
    now = 1_000_000.0
    completion_cache.save(["a-org"], now=now, scope="s")
    assert completion_cache.cached_slugs("s", now=now + completion_cache.TTL_SECONDS) == ["a-org"]
    assert completion_cache.cached_slugs("s", now=now + completion_cache.TTL_SECONDS + 1) == []
    assert completion_cache.cached_slugs("s", now=now - 60) == []  # saved "in the future": a clock jumped


def test_an_unwritable_cache_never_fails_the_listing(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert list(completion_cache.remember(iter(pages_of(["a-org"])), scope="s")) == pages_of(["a-org"])
    assert completion_cache.cached_slugs("s") == []
