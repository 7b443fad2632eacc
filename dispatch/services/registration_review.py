"""A coordinator's review of self-registrations (/join): accept, one by one or in bulk, with
a form registration's checks run again, or decline with a reason. Each outcome is audited
(who accepted or declined what) and told to the worker by the ``registration`` SMS.
A coordinator reviews only the registrations of their own counties.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import User, Worker
from dispatch.models.workers import CANCELLED, PENDING, REGISTERED, SOURCE_SELF
from dispatch.services import audit
from dispatch.services import workers as worker_service
from dispatch.services.notices import templates
from dispatch.services.notices.single import queue_notice
from dispatch.services.scope import in_scope
from dispatch.services.worker_fields import Lookups, text

# The registration SMS's ${result}: Chinese whatever the coordinator's language (≤ 35 chars).
ACCEPTED_RESULT = "已审核通过，发车前将短信告知车次和座位"
DECLINE_REASONS: dict[str, tuple[Any, str]] = {  # code → (label for the page, words of the SMS)
    "registered": (_l("Registered already by the bureau"), "您已登记过，无需重复报名"),
    "dates": (_l("No bus on those dates"), "所选日期暂无专车"),
    "destination": (_l("No bus to that destination"), "所去地区暂无专车"),
    "details": (_l("Details wrong or incomplete"), "信息有误或不全，请来电核实"),
    "other": (_l("Other (write the reason)"), ""),
}
FREE_TEXT_MAX = 60


def pending_query(user: User):
    """Pending self-registrations of the user's counties, oldest first."""
    query = select(Worker).where(Worker.status == PENDING)
    return in_scope(query, Worker.county_id, user.county_ids()).order_by(
        Worker.created_at, Worker.id
    )


def pending_registrations(user: User, limit: int = 300) -> list[Worker]:
    return list(db.session.scalars(pending_query(user).limit(limit)))


def pending_count(user: User) -> int:
    """How many registrations of the user's counties await review (the nav's badge)."""
    query = select(func.count()).select_from(pending_query(user).order_by(None).subquery())
    return db.session.scalar(query) or 0


def recent_reviews(user: User, limit: int = 20) -> list[Worker]:
    """The latest self-registrations this user's counties accepted or declined."""
    query = select(Worker).where(Worker.source == SOURCE_SELF, Worker.reviewed_at.is_not(None))
    query = in_scope(query, Worker.county_id, user.county_ids())
    return list(db.session.scalars(query.order_by(Worker.reviewed_at.desc()).limit(limit)))


@dataclass
class ReviewReport:
    """Accepted workers, and those refused with the reason (in the user's language)."""

    accepted: list[Worker] = field(default_factory=list)
    refused: list[tuple[Worker | None, str]] = field(default_factory=list)


def accept(
    user: User, worker_ids: list[int], now: datetime, config: Mapping[str, Any]
) -> ReviewReport:
    """Accept each pending registration that still passes a form registration's checks;
    each accepted worker is audited and sent the registration SMS. Flushes."""
    report = ReviewReport()
    lookups = Lookups.load(user.county_ids())
    for worker_id in dict.fromkeys(worker_ids):
        worker = _reviewable(user, worker_id)
        if worker is None:
            report.refused.append((None, _("Not awaiting review (reviewed already?).")))
            continue
        problem = _acceptance_problem(worker, lookups, now, config)
        if problem:
            report.refused.append((worker, problem))
            continue
        _mark_reviewed(worker, user, REGISTERED, now)
        audit.record(user, "registration.accept", "worker", worker.id, {"name": worker.name})
        _notify(worker, "accepted", ACCEPTED_RESULT, now, config)
        report.accepted.append(worker)
    db.session.flush()
    return report


def _reviewable(user: User, worker_id: int) -> Worker | None:
    """The pending worker, locked against a second reviewer, when in the user's counties."""
    query = pending_query(user).where(Worker.id == worker_id).with_for_update()
    return db.session.scalar(query)


def _acceptance_problem(
    worker: Worker, lookups: Lookups, now: datetime, config: Mapping[str, Any]
) -> str:
    """Why the registration cannot be accepted now (the form's checks, run again), or ''."""
    cleaned = worker_service.validate(worker_service.as_raw(worker), lookups, worker.id)
    if cleaned.errors:
        return "; ".join(cleaned.errors.values())
    today = now.astimezone(ZoneInfo(config["TIMEZONE"])).date()
    if worker.latest_date < today:
        return _("Its latest departure date has passed: decline it, or correct the dates first.")
    return ""


def decline(
    user: User,
    worker_id: int,
    reason: str,
    words: str,
    now: datetime,
    config: Mapping[str, Any],
) -> Worker:
    """Decline one pending registration with a reason; audited, and the worker is told by SMS.
    Raises LookupError when it is not pending in the user's counties, ValueError without a reason."""
    worker = _reviewable(user, worker_id)
    if worker is None:
        raise LookupError(worker_id)
    said = _decline_words(reason, words)
    _mark_reviewed(worker, user, CANCELLED, now)
    worker.decline_reason = said[:200]
    audit.record(
        user, "registration.decline", "worker", worker.id, {"name": worker.name, "reason": said}
    )
    _notify(worker, "declined", f"未通过审核：{said}", now, config)
    db.session.flush()
    return worker


def _decline_words(reason: str, words: str) -> str:
    if reason not in DECLINE_REASONS:
        raise ValueError(_("Choose a reason."))
    fixed = DECLINE_REASONS[reason][1]
    own = " ".join(text(words).split())[:FREE_TEXT_MAX]
    if not fixed and not own:
        raise ValueError(_("Write the reason the worker will read."))
    return f"{fixed}，{own}" if fixed and own else fixed or own


def _mark_reviewed(worker: Worker, user: User, status: str, now: datetime) -> None:
    worker.status = status
    worker.reviewed_by_id = user.id
    worker.reviewed_at = now


def _notify(
    worker: Worker, outcome: str, result: str, now: datetime, config: Mapping[str, Any]
) -> None:
    params = {"result": result, "hotline": str(config.get("EMERGENCY_PHONE") or "12333")}
    queue_notice(
        templates.REGISTRATION,
        worker=worker,
        params=params,
        dedupe_key=f"registration:{worker.id}:{outcome}",
        now=now,
        settings=config,
    )
