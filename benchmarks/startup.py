"""Benchmark 1, start-up: commands that never touch the network, against `python -c pass` and a
minimal click app. Targets: one Tab press (shell completion) <= 4x `python -c pass`, `--version`
<= 3x, every other command <= 8x.

    .venv/bin/python benchmarks/startup.py [--quick | --runs N]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    HERE,
    MEMBERSHIPS,
    PYTHON,
    Case,
    clean_env,
    fmt_time,
    heading,
    interleave,
    output_of,
    parse_args,
    table,
    verdict,
)

TARGET = 8.0
TAB_TARGET = 4.0
VERSION_TARGET = 3.0


def target_of(name: str) -> float:
    return TAB_TARGET if "<Tab>" in name else VERSION_TARGET if name == "memberships --version" else TARGET


def tab_cases(env: dict) -> list[Case]:
    """What the shell runs on a Tab press: bash and zsh, commands, option values and ORG slugs
    (from a cache as a full `list` at a terminal leaves it: 40 organizations)."""
    saving = (
        "from memberships_cli import completion_cache as c\n"
        "c.save([(f'org-{i:02d}', 'invited' if i % 3 else 'active') for i in range(40)],"
        " scope=c.scope_of(sandbox=False, api_url='https://api.bird.com', profile='default'))"
    )
    subprocess.run([PYTHON, "-c", saving], env=env, check=True)

    def bash(line: str) -> dict:
        return dict(env, _MEMBERSHIPS_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(len(line.split(" ")) - 1))

    return [
        Case("memberships show <Tab> (bash, 40 slugs)", [MEMBERSHIPS], bash("memberships show ")),
        Case("memberships accept org-1<Tab> (bash)", [MEMBERSHIPS], bash("memberships accept org-1")),
        Case("memberships list --format <Tab> (bash)", [MEMBERSHIPS], bash("memberships list --format ")),
        Case("memberships <Tab> (zsh, with help)", [MEMBERSHIPS],
             dict(env, _MEMBERSHIPS_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="memberships ")),
    ]
DEPS = HERE / ".deps"


def click_pythonpath() -> str | None:
    """Where the click baseline finds click: the venv, or benchmarks/.deps (installed once)."""
    if subprocess.run([PYTHON, "-c", "import click"], capture_output=True).returncode == 0:
        return ""
    if not (DEPS / "click").exists():
        print(f"  installing click into {DEPS} for the click baseline (once)", file=sys.stderr)
        done = subprocess.run(
            [PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(DEPS), "click>=8.1,<9"],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            print(f"  no click baseline: pip could not install click:\n{done.stderr[-500:]}", file=sys.stderr)
            return None
    return str(DEPS)


def offline_commands(env: dict) -> list[list[str]]:
    """Offline commands that exist in this build (`completion` and `config` arrived with later issues)."""
    listed = output_of([MEMBERSHIPS, "--help"], env)
    found = []
    if "\n  config " in listed:
        found.append(["config", "path"])
    if "\n  completion " in listed:
        found.append(["completion", "bash"])
    if not found:
        found.append(["sandbox", "--help"])
    return found


def main() -> None:
    args = parse_args(__doc__)
    with tempfile.TemporaryDirectory(prefix="memberships-bench-") as tmp:
        env = clean_env(Path(tmp))
        cases = [Case("python -c pass", [PYTHON, "-c", "pass"], env)]
        click_path = click_pythonpath()
        if click_path is not None:
            click_env = dict(env, PYTHONPATH=click_path) if click_path else env
            cases.append(Case("click app --help", [PYTHON, str(HERE / "baselines" / "minimal_click.py"), "--help"], click_env))
        # The floor under any typer app: importing typer (which vendors click) and nothing else.
        cases.append(Case("python -c 'import typer'", [PYTHON, "-c", "import typer"], env))
        ours = [["--version"], ["--help"], ["list", "--help"], ["accept", "--help"], *offline_commands(env)]
        for argv in ours:
            cases.append(Case("memberships " + " ".join(argv), [MEMBERSHIPS, *argv], env))
        # Narrower than 80 columns, help is typer's to wrap: the path every command still takes.
        cases.append(Case("memberships --help (60 columns: typer)", [MEMBERSHIPS, "--help"], dict(env, COLUMNS="60")))
        cases += tab_cases(env)
        for case in cases:
            if not output_of(case.argv, case.env).strip() and case.name.startswith("memberships"):  # each works
                sys.exit(f"{case.name}: no output")
        heading("1. start-up (no network)", args.runs)
        interleave(cases, args.runs)

    floor = cases[0].median
    click = cases[1].median if click_path is not None else None
    rows = []
    for case in cases:
        low, high = case.quartiles()
        ours_case = case.name.startswith("memberships")
        rows.append([
            case.name,
            fmt_time(case.median),
            f"{fmt_time(low)}-{fmt_time(high)}",
            fmt_time(case.cpu),
            f"{case.median / floor:.2f}x",
            f"{case.cpu / cases[0].cpu:.2f}x",
            f"{case.median / click:.2f}x" if click else "-",
            f"<= {target_of(case.name):g}x: " + verdict(case.median / floor, target_of(case.name)) if ours_case else "",
        ])
    print(table(rows, ["command", "median", "p25-p75", "CPU", "/ python", "CPU / python", "/ click", "target (x python)"]))
    for label, chosen in (("Tab", lambda n: "<Tab>" in n), ("--version", lambda n: n == "memberships --version"),
                          ("the rest", lambda n: "<Tab>" not in n and n != "memberships --version")):
        mine = [c for c in cases if c.name.startswith("memberships") and chosen(c.name)]
        worst = max(mine, key=lambda c: c.median)
        print(f"   target, {label} <= {target_of(worst.name):g}x python -c pass: "
              f"{verdict(worst.median / floor, target_of(worst.name))} for the slowest")


if __name__ == "__main__":
    main()
