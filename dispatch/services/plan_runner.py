"""Running the planner in the background so that the web process never blocks on it."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, time, timedelta

from flask import Flask
from sqlalchemy import update

from dispatch.extensions import db
from dispatch.models import Plan, utcnow
from dispatch.models import trips as t
from dispatch.services import planning

log = logging.getLogger("dispatch.planner")
# A run reports at each stage; the longest stage is the local search, at most the time limit.
# Past this much silence beyond the limit, the thread is gone (a restart, a killed process).
STALL_GRACE = timedelta(minutes=10)


def executor(app: Flask) -> ThreadPoolExecutor:
    """One planner thread per process: plans queue rather than fight over 2 cores."""
    if "planner_executor" not in app.extensions:
        app.extensions["planner_executor"] = ThreadPoolExecutor(1, thread_name_prefix="planner")
    return app.extensions["planner_executor"]


def launch(app: Flask, plan_id: int, time_limit_s: float) -> Future:
    """Solve plan ``plan_id`` (state running) in the background; progress lands on its row."""
    return executor(app).submit(_run, app, plan_id, time_limit_s)


def _run(app: Flask, plan_id: int, time_limit_s: float) -> None:
    with app.app_context():
        try:
            _set(plan_id, progress_at=utcnow(), progress_message="started")
            plan = db.session.get(Plan, plan_id)
            db.session.commit()  # end the read: SQLite refuses a later write from a stale snapshot
            result = planning.solve_plan(plan, time_limit_s, progress=_progress_writer(plan_id))
            departure = time.fromisoformat(app.config["DEPARTURE_TIME"])
            db.session.refresh(plan)
            if plan.status != t.PLAN_RUNNING:  # discarded while it ran: nothing to store
                return
            planning.store_result(plan, result, departure, app.config["TIMEZONE"])
            db.session.commit()
        except Exception as error:  # a failed run must show as failed, not spin forever
            log.exception("plan %s failed", plan_id)
            db.session.rollback()
            _fail(plan_id, str(error)[:500] or type(error).__name__)
        except BaseException:  # the thread is being torn down: leave no plan running forever
            db.session.rollback()
            _fail(plan_id, "the planner was stopped")
            raise
        finally:
            db.session.remove()


def is_stalled(plan: Plan, now: datetime, default_limit_s: float) -> bool:
    """A running plan whose planner has been silent far longer than its time limit allows."""
    if plan.status != t.PLAN_RUNNING:
        return False
    last = plan.progress_at or plan.created_at
    limit = timedelta(seconds=plan.time_limit_s or default_limit_s)
    return now - last > limit + STALL_GRACE


def _progress_writer(plan_id: int):
    def write(fraction: float, message: str) -> None:
        _set(
            plan_id,
            progress=round(min(max(fraction, 0.0), 0.99), 3),
            progress_message=message[:200],
            progress_at=utcnow(),
        )

    return write


def _fail(plan_id: int, message: str) -> None:
    """Mark a running plan failed (a plan discarded meanwhile stays discarded)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.status == t.PLAN_RUNNING)
            .values(status=t.PLAN_FAILED, error=message)
        )


def _set(plan_id: int, **values) -> None:
    """Update the plan row in a short transaction of its own."""
    with db.engine.begin() as conn:
        conn.execute(update(Plan).where(Plan.id == plan_id).values(**values))
