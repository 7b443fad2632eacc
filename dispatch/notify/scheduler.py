"""The scheduler: one APScheduler job that drains the outbox every SCHEDULER_TICK_S seconds,
and one that runs the retention rule daily at RETENTION_TIME (local time).

The outbox table holds the durable state; the scheduler only decides when to look, so
a job lost to a restart loses nothing (retention catches up on its next run).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from dispatch.models import utcnow
from dispatch.notify.outbox import TickOptions, send_due_messages
from dispatch.services import retention

log = logging.getLogger("dispatch.scheduler")


def parse_quiet_hours(value: str | None) -> tuple[int, int] | None:
    """'22:00-07:00' → (1320, 420) minutes; empty → None."""
    if not value:
        return None
    start, end = (part.strip() for part in value.split("-"))
    return _minutes(start), _minutes(end)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def tick_options(app: Flask) -> TickOptions:
    config = app.config
    return TickOptions(
        per_second=float(config["SMS_MAX_PER_SECOND"] or 0),
        quiet=parse_quiet_hours(config["SMS_QUIET_HOURS"]),
        tz=config["TIMEZONE"],
        owner=f"{socket.gethostname()}:{os.getpid()}",
    )


def run_tick(app: Flask, now: datetime | None = None) -> Counter[str]:
    """One tick inside an app context; returns counts by outcome."""
    with app.app_context():
        gateway = app.extensions["sms_gateway"]
        moment = now or utcnow()
        announced = _announce_pending_changes(moment, app)
        counts = send_due_messages(gateway, moment, tick_options(app))
        if announced:
            counts["announced"] = announced
        if counts:
            log.info("tick: %s", dict(counts))
        return counts


def _announce_pending_changes(now: datetime, app: Flask) -> int:
    """Changes made outside a web request (command line, scripts) still get their notices."""
    from dispatch.extensions import db
    from dispatch.notify.notices import schedule_pending_changes

    created = schedule_pending_changes(now, app.config)
    db.session.commit()
    return created


def run_retention(
    app: Flask, now: datetime | None = None, dry_run: bool = False
) -> retention.RetentionReport | None:
    """The retention rule once, inside an app context; None when RETENTION_DAYS is unset."""
    days = app.config.get("RETENTION_DAYS")
    if not days:
        return None
    with app.app_context():
        report = retention.run_retention(
            now or utcnow(),
            int(days),
            app.config["TIMEZONE"],
            imports_dir=Path(app.instance_path) / "imports",
            dry_run=dry_run,
        )
        if report.changed:
            log.info("retention: %s", report)
        return report


def _add_retention(scheduler: BackgroundScheduler | BlockingScheduler, app: Flask) -> None:
    if not app.config.get("RETENTION_DAYS"):
        return
    hour, minute = divmod(_minutes(app.config["RETENTION_TIME"]), 60)
    scheduler.add_job(
        run_retention,
        "cron",
        args=[app],
        hour=hour,
        minute=minute,
        timezone=app.config["TIMEZONE"],
        id="retention",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )


def _add_tick(scheduler: BackgroundScheduler | BlockingScheduler, app: Flask) -> None:
    scheduler.add_job(
        run_tick,
        "interval",
        args=[app],
        seconds=int(app.config["SCHEDULER_TICK_S"]),
        id="outbox-tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=utcnow(),
    )


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Start the tick in a background thread of this process (single-process mode)."""
    scheduler = BackgroundScheduler(timezone=app.config["TIMEZONE"])
    _add_tick(scheduler, app)
    _add_retention(scheduler, app)
    scheduler.start()
    return scheduler


def run_scheduler_forever(app: Flask) -> None:
    """Run the tick as a process of its own (deployments with several web processes)."""
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    _add_tick(scheduler, app)
    _add_retention(scheduler, app)
    scheduler.start()
