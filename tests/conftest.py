from harness import cli, home, sandbox  # noqa: F401  (pytest fixtures)
