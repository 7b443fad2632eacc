"""``sms templates``: each notice kind's template, ready to submit to the SMS provider."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from dispatch.services.notices import catalogue, templates
from dispatch.services.notices.journeys import signature_of

sms_cli = AppGroup("sms", help="SMS templates for the provider's console.")


@sms_cli.command("templates")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (default: all).")
def templates_command(kinds: tuple[str, ...]) -> None:
    """Print every notice kind's wording, variables and purpose, as the console asks."""
    found = [e for e in catalogue.entries(current_app.config) if not kinds or e.kind in kinds]
    if kinds and len(found) != len(set(kinds)):
        raise click.UsageError(f"unknown kind; use {', '.join(templates.TEMPLATES)}")
    click.echo(f"短信签名：{signature_of(current_app.config)}")
    click.echo("")
    for entry in found:
        click.echo("\n".join(catalogue.lines(entry)))
    over = [e.kind for e in found if e.over]
    if over:
        click.echo(f"超出条数预算：{', '.join(over)}", err=True)
