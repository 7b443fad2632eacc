"""Plans as durable jobs: queued in the database, claimed by one planning worker at a time.

A plan row is the job. Starting a plan writes it ``queued`` with its scope and time limit and
nothing else (the web request returns at once). A worker claims it (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a conditional update on SQLite), marks it ``running`` with a fresh claim token, and
beats a heartbeat while it solves. Every write of the run is guarded by that token: a worker
whose plan was cancelled, or taken up again after its heartbeat went stale, finds its claim
gone and stores nothing. A stale claim goes back to the queue up to ``MAX_ATTEMPTS`` claims in
all; after that the plan fails, saying why.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update

from dispatch.extensions import db
from dispatch.models import Plan, User, utcnow
from dispatch.models import trips as t
from dispatch.services import audit, planning, replan_guard

MAX_ATTEMPTS = 3  # the first run and two restarts after an interruption
# Storing a province's draft holds the plan's row for up to a minute with no heartbeat: a plan
# that says so is given this many times the usual silence before it counts as interrupted.
STORING = "storing"
STORING_GRACE = 10
INTERRUPTED = "interrupted"  # Plan.error of a plan that lost its worker too often (translated)
# Plan.error of a plan stopped by an unexpected error: this, then the error as the log has it
# (the API and `plan run` give it whole; the plan page says what to do, never the SQL).
UNEXPECTED = "unexpected error: "
ACTIVE = (t.PLAN_QUEUED, t.PLAN_RUNNING)


class QueueRefusal(planning.PlanningError):
    """A plan request refused before anything is queued; ``field`` names the form field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Claim:
    """The right of one worker to run one plan, and what it needs to run it."""

    plan_id: int
    token: str
    time_limit_s: float
    seed: int = 0


def scope_of(plan: Plan) -> planning.Scope:
    """The planning scope stored on a plan row."""
    stored = plan.scope or {}
    return planning.Scope(
        plan.date_from,
        plan.date_to,
        tuple(stored.get("counties", [])),
        tuple(stored.get("destinations", [])),
        bool(stored.get("allow_moves")),
    )


def queue_plan(
    scope: planning.Scope,
    user: User | None,
    time_limit_s: float,
    base: Plan | None = None,
    owner: str | None = None,
) -> Plan:
    """A new plan row, queued (or, with ``owner``, already claimed by that process).

    Refused with QueueRefusal, in the user's language, when the dates run backwards or span more
    than planning.MAX_PERIOD_DAYS, or no worker waits in the scope.
    """
    refusal = planning.period_error(scope.date_from, scope.date_to)
    if refusal:
        raise QueueRefusal(refusal, "date_to")
    if base is None and not scope.allow_moves and planning.count_open_workers(scope) == 0:
        raise QueueRefusal(
            _("No worker is waiting to travel on these days in these counties and destinations."),
            "scope",
        )
    now = utcnow()
    claimed = {}
    if owner is not None:  # `plan run`: this process runs it, no worker may take it
        claimed = dict(status=t.PLAN_RUNNING, claimed_by=owner, claim_token=_token())
        claimed.update(attempts=1, started_at=now, heartbeat_at=now)
    values = {"status": t.PLAN_QUEUED, "created_at": now, **claimed}
    return planning.add_plan(scope, user, base, time_limit_s, **values)


def claim_of(plan: Plan, seed: int = 0) -> Claim:
    """The claim held on a plan this process queued with an owner."""
    assert plan.claim_token is not None, "the plan is not claimed"
    return Claim(plan.id, plan.claim_token, float(plan.time_limit_s or 30), seed)


def claim_next(owner: str, default_limit_s: float) -> Claim | None:
    """Claim the oldest queued plan for ``owner``; None when the queue is empty."""
    postgres = db.engine.dialect.name == "postgresql"
    # on SQLite another worker may win the row between our read and write
    for _attempt in range(10):
        query = select(Plan.id, Plan.time_limit_s).where(Plan.status == t.PLAN_QUEUED)
        query = query.order_by(Plan.id).limit(1)
        if postgres:  # skip rows another worker is claiming right now instead of waiting on them
            query = query.with_for_update(skip_locked=True)
        row = db.session.execute(query).first()
        if row is None:
            db.session.rollback()
            return None
        plan_id, limit = row
        if not postgres:
            db.session.commit()  # end the read: SQLite refuses a write from a stale snapshot
        token, now = _token(), utcnow()
        won = db.session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.status == t.PLAN_QUEUED)
            .values(
                status=t.PLAN_RUNNING,
                claimed_by=owner,
                claim_token=token,
                attempts=Plan.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                progress=0.0,
                progress_message="",
                error=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if won == 1:
            return Claim(plan_id, token, float(limit or default_limit_s))
    return None


def _token() -> str:
    return secrets.token_urlsafe(18)


def _held(claim: Claim):
    """The condition that the claim still holds: the plan runs, under this claim."""
    return (
        Plan.id == claim.plan_id,
        Plan.claim_token == claim.token,
        Plan.status == t.PLAN_RUNNING,
    )


def _guarded_update(claim: Claim, **values) -> bool:
    """Update the plan if the claim still holds, in a transaction of its own."""
    held = db.session.execute(
        update(Plan)
        .where(*_held(claim))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return held == 1


def beat(claim: Claim, progress: float | None = None, message: str | None = None) -> bool:
    """The heartbeat (with the latest progress); False once the claim is gone (cancelled...)."""
    values: dict[str, object] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = round(min(max(progress, 0.0), 0.99), 3)
        values["progress_at"] = values["heartbeat_at"]
    if message is not None:
        values["progress_message"] = message[:200]
    return _guarded_update(claim, **values)


def prepare(claim: Claim) -> dict | None:
    """Build the plan's problem from today's demand and store it; None if the claim is gone."""
    plan = db.session.get(Plan, claim.plan_id)
    if plan is None:
        return None
    base_id = (plan.scope or {}).get("base_plan")
    base = db.session.get(Plan, base_id) if base_id else None
    problem = planning.build_problem(scope_of(plan), base)
    scope = planning.with_problem_facts(plan.scope, problem)
    db.session.rollback()  # end the reads before the guarded write
    if not _guarded_update(claim, problem=problem, scope=scope, progress_message="started"):
        return None
    return problem


def finish(claim: Claim, result: dict, departure: time, tz: str) -> bool:
    """Store the planner's result as the draft, all or nothing; False if the claim is gone."""
    now = utcnow()
    held = db.session.execute(  # first: on PostgreSQL this locks the row until the commit
        update(Plan)
        .where(*_held(claim))
        .values(heartbeat_at=now, finished_at=now, claim_token=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if held != 1:
        db.session.rollback()
        return False
    plan = db.session.get(Plan, claim.plan_id, populate_existing=True)
    base_id = (plan.scope or {}).get("base_plan")
    base = db.session.get(Plan, base_id) if base_id else None
    result = replan_guard.better_of(plan.problem, result, base)  # never dearer than its base
    planning.store_result(plan, result, departure, tz)
    db.session.commit()
    return True


def fail(claim: Claim, reason: str) -> bool:
    """Mark the claimed plan failed with ``reason`` (nothing of the run is kept)."""
    db.session.rollback()
    return _guarded_update(
        claim,
        status=t.PLAN_FAILED,
        error=reason[:500] or "failed",
        claim_token=None,
        finished_at=utcnow(),
    )


def release(claim: Claim) -> bool:
    """Give a plan back to the queue (its worker is shutting down); the claim does not count."""
    db.session.rollback()
    return _guarded_update(
        claim,
        status=t.PLAN_QUEUED,
        claim_token=None,
        claimed_by=None,
        attempts=Plan.attempts - 1,
        restarts=Plan.restarts + 1,
        progress=0.0,
        progress_message="",
    )


def last_sign_of_life():
    """A running plan's last heartbeat, for plans started before heartbeats existed too."""
    return func.coalesce(Plan.heartbeat_at, Plan.progress_at, Plan.started_at, Plan.created_at)


def _silent(now: datetime, stale_s: float):
    """The condition that a running plan's worker has gone silent."""
    short = now - timedelta(seconds=stale_s)
    long = now - timedelta(seconds=stale_s * STORING_GRACE)
    quiet = last_sign_of_life()
    return or_(quiet < long, and_(Plan.progress_message != STORING, quiet < short))


def reap_stale(now: datetime, stale_s: float) -> int:
    """Take up again every running plan whose heartbeat is older than ``stale_s``.

    It goes back to the queue while it has claims left, else it fails as interrupted.
    Returns how many plans were reaped.
    """
    stale = db.session.execute(
        select(Plan.id, Plan.claim_token, Plan.attempts).where(
            Plan.status == t.PLAN_RUNNING, _silent(now, stale_s)
        )
    ).all()
    db.session.rollback()
    reaped = 0
    for plan_id, token, attempts in stale:
        if attempts >= MAX_ATTEMPTS:
            values = dict(status=t.PLAN_FAILED, error=INTERRUPTED, finished_at=now)
        else:
            values = dict(
                status=t.PLAN_QUEUED,
                restarts=Plan.restarts + 1,
                claimed_by=None,
                progress=0.0,
                progress_message="",
            )
        reaped += db.session.execute(
            update(Plan)
            .where(
                Plan.id == plan_id,
                Plan.status == t.PLAN_RUNNING,
                Plan.claim_token.is_(None) if token is None else Plan.claim_token == token,
                _silent(now, stale_s),  # a heartbeat that came meanwhile keeps the claim
            )
            .values(claim_token=None, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    return reaped


def cancel(plan: Plan, user: User | None) -> bool:
    """Cancel a queued or running plan; its worker stops at its next heartbeat and keeps nothing.

    False when the plan had already finished (a draft, a failure) by the time of the request.
    """
    cancelled = db.session.execute(
        update(Plan)
        .where(Plan.id == plan.id, Plan.status.in_(ACTIVE))
        .values(status=t.PLAN_CANCELLED, claim_token=None, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if cancelled:
        audit.record(user, "plan.cancel", "plan", plan.id, {})
    db.session.commit()
    db.session.refresh(plan)
    return cancelled == 1


def discard(plan: Plan, user: User | None) -> bool:
    """Set aside a draft or a failed plan (a published one stays); False for any other."""
    if plan.status not in (t.PLAN_DRAFT, t.PLAN_FAILED):
        return False
    plan.status = t.PLAN_DISCARDED
    audit.record(user, "plan.discard", "plan", plan.id, {})
    return True


def restore(plan: Plan, user: User | None) -> list[int]:
    """Make a superseded draft current again; the drafts re-planned from it step aside.

    Returns the ids of the drafts set aside. Refused (PlanningError) for anything but a draft
    that was superseded without ever being published.
    """
    if plan.status != t.PLAN_SUPERSEDED or plan.published_at is not None:
        raise planning.PlanningError(f"plan {plan.id} is {plan.status}, not a superseded draft")
    successors = [
        p
        for p in db.session.scalars(select(Plan).where(Plan.status == t.PLAN_DRAFT))
        if (p.scope or {}).get("base_plan") == plan.id
    ]
    for successor in successors:
        successor.status = t.PLAN_SUPERSEDED
    plan.status = t.PLAN_DRAFT
    audit.record(user, "plan.restore", "plan", plan.id, {"set_aside": [p.id for p in successors]})
    return [p.id for p in successors]


def queue_positions() -> dict[int, int]:
    """Each queued plan's place in the queue, 1 for the next to be claimed."""
    ids = db.session.scalars(
        select(Plan.id).where(Plan.status == t.PLAN_QUEUED).order_by(Plan.id)
    ).all()
    return {plan_id: place for place, plan_id in enumerate(ids, start=1)}


def overlapping(scope: planning.Scope) -> list[Plan]:
    """Queued or running plans that cover some of the same days, counties and destinations."""
    candidates = db.session.scalars(
        select(Plan)
        .where(
            Plan.status.in_(ACTIVE),
            Plan.date_from <= scope.date_to,
            Plan.date_to >= scope.date_from,
        )
        .order_by(Plan.id)
    ).all()
    return [
        p
        for p in candidates
        if _meet(scope.counties, (p.scope or {}).get("counties"))
        and _meet(scope.destinations, (p.scope or {}).get("destinations"))
    ]


def _meet(mine: tuple[str, ...], theirs: list[str] | None) -> bool:
    """Two choices of counties (or destinations) share one; an empty choice means all."""
    return not mine or not theirs or bool(set(mine) & set(theirs))


def is_interrupted(plan: Plan, now: datetime, stale_s: float) -> bool:
    """A running plan whose worker has gone silent: it is about to be taken up again."""
    if plan.status != t.PLAN_RUNNING:
        return False
    last = plan.heartbeat_at or plan.progress_at or plan.started_at or plan.created_at
    grace = STORING_GRACE if plan.progress_message == STORING else 1
    return now - last > timedelta(seconds=stale_s * grace)
