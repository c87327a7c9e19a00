"""The README's first lines are a promise to a newcomer: keep them and CI in step."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_the_two_commands():
    install_and_run, test = readme_commands()[:2]
    assert "pip install ." in install_and_run and install_and_run.endswith("memberships --sandbox list")
    assert "pip install -e '.[test]'" in test and "pytest" in test
    assert (ROOT / "README.md").read_text(encoding="utf-8").index("```sh") < 200  # in the first lines


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = readme_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines
