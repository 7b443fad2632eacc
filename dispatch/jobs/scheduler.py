"""The scheduler: one APScheduler job that drains the outbox (and reads the delivery receipts
that are due) every SCHEDULER_TICK_S seconds,
one that runs the retention rule daily at RETENTION_TIME (local time), and a planning worker
(planning_worker.py) beside them.

The outbox table holds the durable state; the scheduler only decides when to look, so
a job lost to a restart loses nothing (retention catches up on its next run).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections import Counter
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text

from dispatch.extensions import db
from dispatch.jobs.planning_worker import PlanningWorker
from dispatch.models import utcnow
from dispatch.notify.outbox import TickOptions
from dispatch.notify.quiet_hours import clock_minutes, parse_quiet_hours
from dispatch.notify.receipts import read_due_receipts
from dispatch.notify.sending import send_due_messages
from dispatch.services import retention
from dispatch.services.notices.notices import schedule_deferred, schedule_pending_changes

log = logging.getLogger("dispatch.scheduler")


def tick_options(app: Flask) -> TickOptions:
    """The outbox tick's options from the configuration (CONTRACTS.md §2)."""
    config = app.config
    return TickOptions(
        per_second=float(config["SMS_MAX_PER_SECOND"] or 0),
        quiet=parse_quiet_hours(config["SMS_QUIET_HOURS"]),
        tz=config["TIMEZONE"],
        owner=f"{socket.gethostname()}:{os.getpid()}",
    )


def run_tick(app: Flask, now: datetime | None = None) -> Counter[str]:
    """One tick inside an app context: send what is due, then read the receipts that are
    due; returns counts by outcome."""
    with app.app_context():
        gateway = app.extensions["sms_gateway"]
        moment = now or utcnow()
        announced = _write_pending_notices(moment, app)
        counts = send_due_messages(gateway, moment, tick_options(app))
        counts.update(read_due_receipts(gateway, moment))
        if announced:
            counts["announced"] = announced
        if counts:
            log.info("tick: %s", dict(counts))
        return counts


def _write_pending_notices(now: datetime, app: Flask) -> int:
    """Notices not written where their cause was: a season's publish notices (too many for the
    request), and changes made outside a web request (command line, scripts)."""
    created = schedule_deferred(now, app.config)
    db.session.commit()
    if created and db.engine.dialect.name == "postgresql":
        # A season's 200,000 rows at once: until autovacuum's analyze (a minute or so) the
        # planner kept the table's old statistics and the messages pages ran 4-5 times slower.
        db.session.execute(text("ANALYZE outbound_message"))  # OutboundMessage's table
        db.session.commit()
    created += schedule_pending_changes(now, app.config)
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
            pending_days=app.config.get("RETENTION_PENDING_DAYS"),
        )
        if report.changed:
            log.info("retention: %s", report)
        return report


def _add_retention(scheduler: BackgroundScheduler | BlockingScheduler, app: Flask) -> None:
    if not app.config.get("RETENTION_DAYS"):
        return
    hour, minute = divmod(clock_minutes(app.config["RETENTION_TIME"]), 60)
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
    """Start the jobs, and a planning worker, in background threads (single-process mode)."""
    scheduler = BackgroundScheduler(timezone=app.config["TIMEZONE"])
    _add_tick(scheduler, app)
    _add_retention(scheduler, app)
    scheduler.start()
    PlanningWorker(app).start()  # registers itself as app.extensions["planning_worker"]
    return scheduler


def stop_scheduler(app: Flask, scheduler: BackgroundScheduler) -> None:
    """Stop what start_scheduler started; running plans go back to the queue."""
    scheduler.shutdown(wait=False)
    worker = app.extensions.get("planning_worker")
    if worker is not None:
        worker.stop()


def run_scheduler_forever(app: Flask) -> None:
    """The scheduler as a process of its own, planning worker included, until SIGTERM/Ctrl-C."""
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    _add_tick(scheduler, app)
    _add_retention(scheduler, app)
    worker = PlanningWorker(app).start()
    signal.signal(signal.SIGTERM, _exit)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopping")
    finally:
        worker.stop()


def _exit(signum, _frame) -> None:
    raise SystemExit(0)
