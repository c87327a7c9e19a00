from harness import cli, home, refused_url, sandbox  # noqa: F401  (pytest fixtures)
