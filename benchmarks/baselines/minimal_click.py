"""The reference point for start-up: a minimal click app of five commands with a few options.

click is not a dependency of the CLI (typer vendors a cut-down copy that cannot build an app on its
own); startup.py installs it for this script alone under benchmarks/.deps.
"""

import click


@click.group()
@click.option("--api-url", help="API base URL.")
@click.option("--verbose", "-v", is_flag=True, help="Log requests.")
@click.version_option("0.1.0")
def cli(api_url, verbose):
    """Manage your memberships."""


@cli.command("list")
@click.option("--status", help="Only this status.")
@click.option("--limit", type=int, help="At most N.")
@click.option("--format", "fmt", type=click.Choice(["table", "plain", "json", "jsonl", "csv"]))
def list_(status, limit, fmt):
    """List memberships."""


@cli.command()
@click.argument("org")
@click.option("--json", "as_json", is_flag=True)
def show(org, as_json):
    """Show one membership."""


@cli.command()
@click.argument("orgs", nargs=-1)
@click.option("--all", "all_", is_flag=True)
@click.option("--concurrency", type=int, default=8)
def accept(orgs, all_, concurrency):
    """Accept invitations."""


@cli.command()
@click.argument("orgs", nargs=-1)
@click.option("--yes", is_flag=True)
def leave(orgs, yes):
    """Leave organizations."""


@cli.command()
def status():
    """Show the login status."""


if __name__ == "__main__":
    cli()
