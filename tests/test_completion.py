"""Shell completion: `memberships completion SHELL`, the scripts kept in completions/, real bash
completing commands, options and ORG slugs from the cache (never the network), the slug cache
itself, and what a completion run is allowed to import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memberships_cli import completion_cache
from memberships_cli.commands.completion import COMPLETE_VAR, SCRIPT_FILES, Shell
from memberships_cli.models import Membership
from memberships_cli.sandbox import SANDBOX_TOKEN, seed

from harness import ROOT, base_env

COMPLETIONS = ROOT / "completions"
BIN = str(Path(sys.executable).parent)  # where pip put the `memberships` script the shell calls


def env_for(home, sandbox) -> dict:
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    return env


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
    assert len(bash_complete(home, sandbox, "memberships leave ")) == len(seed.memberships())
    assert sandbox.requests == []  # completion never called the API


def test_a_stale_cache_offers_nothing(cli, home, sandbox):
    assert cli("list", tty=True).code == 0
    path = home / "cache" / "memberships-cli" / completion_cache.FILE_NAME
    data = json.loads(path.read_text())
    data["savedAt"] -= completion_cache.TTL_SECONDS + 1
    path.write_text(json.dumps(data))
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
    completion_cache_path = home / "cache" / "memberships-cli" / completion_cache.FILE_NAME
    completion_cache_path.parent.mkdir(parents=True)
    completion_cache_path.write_text(json.dumps({"savedAt": time.time(), "slugs": ["globex-retail", "acme-logistics"]}))
    env = env_for(home, sandbox) | extra | {COMPLETE_VAR: f"complete_{shell}"}
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


# -- the cache itself (unit) -----------------------------------------------------------------------


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "memberships-cli"


def pages_of(*slugs_per_page):
    return [[Membership({"organization": {"id": s, "slug": s}}) for s in page] for page in slugs_per_page]


def test_remember_saves_only_when_the_listing_was_read_to_the_end(cache_home):
    pages = pages_of(["b-org", "a-org"], ["c-org"])
    stream = completion_cache.remember(iter(pages))
    assert next(stream) is pages[0]
    assert completion_cache.cached_slugs() == []  # not before the end
    assert list(stream) == [pages[1]]
    assert completion_cache.cached_slugs() == ["a-org", "b-org", "c-org"]
    assert [p.name for p in cache_home.iterdir()] == [completion_cache.FILE_NAME]  # no temporary left


def test_remember_passes_a_filtered_listing_through_untouched(cache_home):
    pages = pages_of(["a-org"])
    assert completion_cache.remember(pages, unfiltered=False) is pages
    assert list(completion_cache.remember(iter(pages), unfiltered=False)) == pages
    assert not cache_home.exists()


def test_an_interrupted_listing_saves_nothing(cache_home):
    def pages():
        yield pages_of(["a-org"])[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(completion_cache.remember(pages()))
    assert completion_cache.cached_slugs() == []


@pytest.mark.parametrize("content", ["", "{", "[]", '{"savedAt": "x", "slugs": []}', '{"savedAt": 1}',
                                     '{"savedAt": NOW, "slugs": "abc"}', '{"savedAt": NOW, "slugs": [1, "ok", "no way"]}'])
def test_a_damaged_cache_reads_as_empty(cache_home, content):
    cache_home.mkdir(parents=True)
    (cache_home / completion_cache.FILE_NAME).write_text(content.replace("NOW", str(time.time())))
    assert completion_cache.cached_slugs() in ([], ["ok"])


def test_cache_ttl_and_future_timestamps(cache_home):
    now = 1_000_000.0
    completion_cache.save(["a-org"], now=now)
    assert completion_cache.cached_slugs(now=now + completion_cache.TTL_SECONDS) == ["a-org"]
    assert completion_cache.cached_slugs(now=now + completion_cache.TTL_SECONDS + 1) == []
    assert completion_cache.cached_slugs(now=now - 60) == []  # saved "in the future": a clock jumped


def test_an_unwritable_cache_never_fails_the_listing(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert list(completion_cache.remember(iter(pages_of(["a-org"])))) == pages_of(["a-org"])
    assert completion_cache.cached_slugs() == []
