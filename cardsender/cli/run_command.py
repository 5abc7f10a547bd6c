"""``cardsender run``: the background service."""

from __future__ import annotations

import sys

import click

from cardsender.cli.app_context import AppContext


@click.command("run")
@click.pass_obj
def run(app: AppContext) -> None:
    """Run the service: send what is due now, daily at the send time, and every 15 minutes to catch up."""
    from cardsender.service.daemon import run_service, setup_logging

    log_file = setup_logging(app.verbose)
    click.echo(f"Logging to {log_file}", err=True)
    sys.exit(run_service(app.config))


COMMANDS = (run,)
