"""Command-line interface: ``flask --app dispatch …`` (CONTRACTS.md §3)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.serving import run_simple

from dispatch.cli.plans import plan_cli, planner_cli, worker_cli
from dispatch.cli.sms import sms_cli
from dispatch.extensions import db
from dispatch.models import ROLES, User
from dispatch.notify.gateway import show_console_sms
from dispatch.services import accounts, demo

users_cli = AppGroup("users", help="Manage user accounts.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")
demo_cli = AppGroup("demo", help="Reference and demo data.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--county", "counties", multiple=True, help="County id (repeatable).")
@click.option("--if-missing", is_flag=True, help="Do nothing when the user exists.")
def create_user(name: str, role: str, counties: tuple[str, ...], if_missing: bool) -> None:
    """Create a user; the password is read from stdin, or generated and printed."""
    if if_missing and db.session.scalar(select(User).filter_by(username=name)):
        return
    typed = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.readline().strip()
    password = typed or accounts.generate_password()
    try:
        accounts.create_user(name, role, password, counties)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {role} {name!r}.")
    if not typed:
        click.echo(f"Password for {name}: {password}")
        click.echo("It is shown only this once.")


@tokens_cli.command("create")
@click.argument("name")
def create_token(name: str) -> None:
    """Print a new API token for user NAME."""
    user = db.session.scalar(select(User).filter_by(username=name))
    if user is None:
        raise click.ClickException(f"no user {name!r}")
    token = accounts.create_token(user)
    db.session.commit()
    click.echo(token)


@demo_cli.command("load")
@click.option("--workers", default=200, show_default=True, type=click.IntRange(min=0))
@click.option("--seed", default=2026, show_default=True)
@click.option("--if-empty", is_flag=True, help="Only when the database has no data yet.")
@click.option(
    "--day", type=click.DateTime(["%Y-%m-%d"]), help="Travel around this day (default 2026-03-01)."
)
@click.option(
    "--profile",
    type=click.Choice(demo.PROFILES),
    default=demo.CAMPAIGN,
    show_default=True,
    help="campaign: most workers to three factories, as a real campaign; spread: every "
    "county-to-employer pair alike.",
)
def load_demo(workers: int, seed: int, if_empty: bool, day, profile: str) -> None:
    """Load reference data, fleet and demo workers (idempotent)."""
    if if_empty and not demo.database_is_empty():
        click.echo("Data already present; demo not loaded.")
        return
    report = demo.load_demo(
        workers=workers, seed=seed, day=day.date() if day else demo.DEMO_DAY, profile=profile
    )
    db.session.commit()
    click.echo(
        f"{report.counties} counties, {report.sites} sites, {report.employers} employers, "
        f"{report.coaches} coaches; {report.workers_added} workers added."
    )


workers_cli = AppGroup("workers", help="The worker registry.")


@workers_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--commit", "do_commit", is_flag=True, help="Write the good rows (default: check only)."
)
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Departure date of rows without one."
)
def import_workers(file: str, do_commit: bool, day) -> None:
    """Import workers from .xlsx, .xls or .csv; print a per-row report."""
    from pathlib import Path

    from dispatch.services import worker_import
    from dispatch.services.worker_columns import skip_reason_label
    from dispatch.services.worker_fields import FIELD_LABELS_ZH, Lookups

    data, lookups = Path(file).read_bytes(), Lookups.load()
    dates = worker_import.FileDates(day.date() if day else None)
    try:
        if do_commit:
            report = worker_import.commit(file, data, lookups, None, dates=dates)
        else:
            report = worker_import.preview(file, data, lookups, dates)
    except worker_import.ImportFileError as error:
        raise click.ClickException(str(error)) from None
    for row in report.rows:
        problems = "; ".join(f"{FIELD_LABELS_ZH.get(k, k)}: {v}" for k, v in row.errors.items())
        click.echo(f"row {row.row}\t{row.status}\t{row.name}\t{problems}".rstrip())
    for skipped in report.skipped:
        click.echo(
            f"row {skipped.row}\tskipped\t{skip_reason_label(skipped.reason)}\t{skipped.text}".rstrip()
        )
    if report.ignored_columns:
        click.echo("ignored columns: " + ", ".join(report.ignored_columns))
    new, existing, bad = report.count("new"), report.count("existing"), len(report.errors)
    click.echo(f"{new} new, {existing} already registered, {bad} with errors.")
    if do_commit:
        db.session.commit()
        click.echo(f"Written: {report.written}.")
    else:
        click.echo("Nothing written (use --commit).")


notify_cli = AppGroup("notify", help="SMS notifications.")
scheduler_cli = AppGroup("scheduler", help="The scheduler process.")


@notify_cli.command("tick")
@click.option("--now", "now_text", help="ISO 8601 moment (default: now); naive means TIMEZONE.")
def notify_tick(now_text: str | None) -> None:
    """Send, once, whatever is due at that moment, and read the delivery receipts that are
    due; print counts by outcome."""
    from dispatch.jobs.scheduler import run_tick

    app = current_app._get_current_object()
    counts = run_tick(app, _parse_now(now_text, app.config["TIMEZONE"]))
    click.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing due")


def _parse_now(text: str | None, tz: str):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 moment: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the scheduler as a process of its own (Ctrl-C stops)."""
    from dispatch.jobs.scheduler import run_scheduler_forever

    click.echo("Scheduler running (Ctrl-C stops).")
    show_console_sms(current_app.config)
    run_scheduler_forever(current_app._get_current_object())


retention_cli = AppGroup("retention", help="Data retention (PIPL): anonymise past workers.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what is due; change nothing.")
@click.option("--now", "now_text", help="ISO 8601 moment (default: now); naive means TIMEZONE.")
def retention_run(dry_run: bool, now_text: str | None) -> None:
    """Anonymise workers RETENTION_DAYS after their trip; print the counts."""
    from dispatch.jobs.scheduler import run_retention

    app = current_app._get_current_object()
    report = run_retention(app, _parse_now(now_text, app.config["TIMEZONE"]), dry_run=dry_run)
    if report is None:
        raise click.ClickException("RETENTION_DAYS is not set: retention is off")
    if dry_run:
        click.echo(f"{report.workers} workers due, with {report.messages} SMS; nothing changed.")
        return
    click.echo(
        f"{report.workers} workers anonymised; {report.messages} SMS, {report.audit_events} audit "
        f"entries, {report.import_previews} import previews scrubbed."
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(path: Path) -> None:
    """Back up the database to PATH (SQLite online backup, or pg_dump custom format)."""
    from dispatch.services import backup

    try:
        backup.backup(db.engine.url, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up to {path} ({path.stat().st_size:,} bytes).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="Replace ALL data in the database with this backup?")
def db_restore(path: Path) -> None:
    """Replace the database's content with the backup at PATH (stop the app first)."""
    from dispatch.services import backup

    db.engine.dispose()  # no pooled connection holds the database while it is replaced
    try:
        backup.restore(db.engine.url, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored from {path}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--public-url", default=None, help="links are built on it unless PUBLIC_BASE_URL is set"
)
def serve(host: str, port: int, public_url: str | None) -> None:
    """Serve the app on one process, with the scheduler when SCHEDULER_ENABLED."""
    app = current_app._get_current_object()
    adopt_public_url(app.config, public_url)
    show_console_sms(app.config)
    scheduler = _start_scheduler(app) if app.config["SCHEDULER_ENABLED"] else None
    click.echo(f"Serving on http://{host}:{port}  (Ctrl-C stops)")
    try:
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        if scheduler is not None:
            from dispatch.jobs.scheduler import stop_scheduler

            stop_scheduler(app, scheduler)


def adopt_public_url(config: dict, url: str | None) -> None:
    """Build links on the address ``make run`` serves, unless PUBLIC_BASE_URL was configured
    (instance/config.py or DISPATCH_PUBLIC_BASE_URL): a configured address always wins."""
    from dispatch import config as defaults

    if url and config.get("PUBLIC_BASE_URL") == defaults.PUBLIC_BASE_URL:
        config["PUBLIC_BASE_URL"] = url.rstrip("/")


trips_cli = AppGroup("trips", help="Trips and their drivers' manifests.")


@trips_cli.command("driver-link")
@click.argument("trip_id", type=int)
@click.option("--rotate", is_flag=True, help="Make a new link first; earlier links stop working.")
def trip_driver_link(trip_id: int, rotate: bool) -> None:
    """Print the signed manifest address for the trip's driver (PUBLIC_BASE_URL/m/…)."""
    from dispatch.models import Trip
    from dispatch.services import driver_links

    trip = db.session.get(Trip, trip_id)
    if trip is None:
        raise click.ClickException(f"no trip {trip_id}")
    if rotate or not trip.manifest_key:
        driver_links.rotate(trip, None)
    link = driver_links.link_for(
        trip, current_app.secret_key, current_app.config["PUBLIC_BASE_URL"]
    )
    db.session.commit()
    click.echo(link)
    if trip.plan.status != "published":
        click.echo(
            f"note: plan {trip.plan_id} is {trip.plan.status}; the link opens once it is published",
            err=True,
        )


def _start_scheduler(app: Flask):
    from dispatch.jobs.scheduler import start_scheduler

    return start_scheduler(app)


reference_cli = AppGroup(
    "reference", help="The bundled pickup points, destinations and coach types."
)
fleet_cli = AppGroup("fleet", help="Operators' coaches and drivers.")


@reference_cli.command("load")
def reference_load() -> None:
    """Load the bundled pickup points, destination sites and coach types (idempotent)."""
    from dispatch.services.reference import load_reference

    report = load_reference()
    db.session.commit()
    click.echo(
        f"Sites added: {report.sites_added}, counties added: {report.counties_added}, "
        f"coach types added: {report.coach_types_added}."
    )


@fleet_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--commit", "do_commit", is_flag=True, help="Write the good rows (default: check only)."
)
def fleet_import_command(file: str, do_commit: bool) -> None:
    """Import an operator's coach list (.xlsx, .xls or .csv); print a per-row report."""
    from dispatch.services import fleet_import
    from dispatch.services.worker_sheets import ImportFileError

    try:
        report = fleet_import.preview(file, Path(file).read_bytes())
    except ImportFileError as error:
        raise click.ClickException(str(error)) from None
    for row in report.rows:
        problems = "; ".join(f"{k}: {v}" for k, v in row.errors.items())
        click.echo(f"row {row.row}\t{row.status}\t{row.plate}\t{problems}".rstrip())
    click.echo(
        f"{report.count('new')} new, {report.count('changed')} changed, "
        f"{report.count('unchanged')} unchanged, {report.count('error')} with errors."
    )
    if not do_commit:
        click.echo("Nothing written (use --commit).")
        return
    result = fleet_import.commit(report, None)
    db.session.commit()
    click.echo(
        f"Written: {result.added} added, {result.changed} changed, {result.drivers_added} drivers added."
    )


def init_app(app: Flask) -> None:
    from flask_migrate.cli import db as migrate_db_cli

    migrate_db_cli.add_command(db_backup)  # flask --app dispatch db backup PATH
    migrate_db_cli.add_command(db_restore)
    for command in (
        users_cli,
        tokens_cli,
        demo_cli,
        workers_cli,
        planner_cli,
        plan_cli,
        worker_cli,
        notify_cli,
        scheduler_cli,
        serve,
        retention_cli,
        trips_cli,
        reference_cli,
        fleet_cli,
        sms_cli,
    ):
        app.cli.add_command(command)
