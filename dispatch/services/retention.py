"""Retention (PIPL): anonymise a worker's personal data a set time after their trip.

A worker is due when ``days`` have passed since the last of: their latest departure date,
the date of any trip they hold a seat on (any plan: the conservative choice), and — for a
withdrawn worker — the withdrawal (the record's last change). Anonymising overwrites
name, ID number, phone, township, notes and travel-group code, keeps only the birth year,
and keeps every fact the statistics count (county, pickup, destination, employer, sex,
status, seats, trips). It also blanks the worker's SMS (body, number, provider error text,
which may quote the number), drops names from the worker's audit entries and search text
from old export entries, and deletes import previews left behind in ``instance/imports``.

Work goes in batches, each committed (like the outbox tick), so 100,000 workers never sit
in one transaction; on PostgreSQL a batch skips rows another transaction holds, and the
row version is bumped so that an edit form opened before cannot write the old data back.
Running it again changes nothing.

A registration a worker sent themselves (/join) that nobody accepted is anonymised sooner:
``pending_days`` (30) after it was sent while still pending, or after it was declined. Such a
person never travelled with us; there is nothing to keep their data for. A pending one also
leaves the review list (status cancelled, the reason recorded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, case, delete, exists, func, or_, select, update

from dispatch.extensions import db
from dispatch.models import (
    AuditEvent,
    OutboundMessage,
    SeatAssignment,
    Trip,
    VerificationCode,
    Worker,
)
from dispatch.models import messages as m
from dispatch.models.workers import CANCELLED, PENDING, SOURCE_SELF
from dispatch.services import audit, replies

BATCH_SIZE = 500
PERSONAL_AUDIT_KEYS = ("name",)  # worker.create / worker.withdraw keep the name at the time
IMPORT_PREVIEW_MAX_AGE_S = 24 * 3600
PENDING_DAYS = 30  # a self-registration nobody accepted (RETENTION_PENDING_DAYS)
UNREVIEWED_REASON = "逾期未审核，信息已匿名化"  # decline_reason of a pending one anonymised
# A verification code's row (phone, address) serves only the per-day limits: kept two days.
CODES_KEPT = timedelta(days=2)


@dataclass
class RetentionReport:
    """What one run anonymised or scrubbed (or, on a dry run, would have)."""

    workers: int = 0
    messages: int = 0
    audit_events: int = 0
    import_previews: int = 0
    codes: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.workers or self.messages or self.audit_events or self.import_previews or self.codes
        )


@dataclass(frozen=True)
class Cutoff:
    """Everything on or before ``last_day`` (local date) / ``moment`` (UTC) is past retention."""

    last_day: date
    moment: datetime
    unreviewed: datetime | None = None  # self-registrations sent or declined by then

    @classmethod
    def of(cls, now: datetime, days: int, tz: str, pending_days: int | None = None) -> Cutoff:
        return cls(
            now.astimezone(ZoneInfo(tz)).date() - timedelta(days=days),
            now - timedelta(days=days),
            now - timedelta(days=pending_days) if pending_days else None,
        )


def anonymised_id_number(worker_id: int) -> str:
    """A unique, non-identifying stand-in for the ID number (no real one starts with letters)."""
    return f"ANON{worker_id:014d}"


def anonymised_name(worker_id: int) -> str:
    return f"#{worker_id}"


def due_workers(cutoff: Cutoff) -> Select:
    """Ids and birth dates of the workers past retention and not yet anonymised, by id."""
    recent_trip = exists().where(
        SeatAssignment.worker_id == Worker.id,
        SeatAssignment.trip_id == Trip.id,
        Trip.date > cutoff.last_day,
    )
    travelled_or_not = and_(
        Worker.latest_date <= cutoff.last_day,
        or_(Worker.status != CANCELLED, Worker.updated_at <= cutoff.moment),
        ~recent_trip,
    )
    due = or_(travelled_or_not, _unreviewed(cutoff)) if cutoff.unreviewed else travelled_or_not
    return (
        select(Worker.id, Worker.birth_date)
        .where(Worker.anonymised_at.is_(None), due)
        .order_by(Worker.id)
    )


def _unreviewed(cutoff: Cutoff):
    """Self-registrations pending since the cutoff, or declined before it."""
    pending = and_(Worker.status == PENDING, Worker.created_at <= cutoff.unreviewed)
    declined = and_(
        Worker.status == CANCELLED,
        Worker.reviewed_at.is_not(None),
        Worker.reviewed_at <= cutoff.unreviewed,
    )
    return and_(Worker.source == SOURCE_SELF, or_(pending, declined))


def run_retention(
    now: datetime,
    days: int,
    tz: str,
    imports_dir: Path | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    pending_days: int | None = PENDING_DAYS,
) -> RetentionReport:
    """Anonymise every worker due at ``now``; commits per batch; an audit entry when it changed anything."""
    cutoff = Cutoff.of(now, days, tz, pending_days)
    if dry_run:
        return _count_due(cutoff)
    report = RetentionReport()
    last_id = 0  # keyset: each batch starts after the previous one instead of rescanning it
    while batch := _claim_batch(cutoff, batch_size, last_id):
        last_id = batch[-1][0]
        report.workers += len(batch)
        report.messages += _anonymise(batch, now)
        report.messages += replies.forget([worker_id for worker_id, _ in batch])
        report.audit_events += _scrub_worker_audit([worker_id for worker_id, _ in batch])
        db.session.commit()
    report.audit_events += _scrub_export_searches(cutoff.moment)
    report.messages += replies.forget([], unknown_before=cutoff.moment)  # replies from strangers
    report.import_previews = _forget_import_previews(imports_dir, now)
    report.codes = _forget_codes(now - CODES_KEPT)
    report.messages += _scrub_verification_sends(cutoff.moment)
    if report.changed:
        detail = {**asdict(report), "days": days}
        del detail["dry_run"]
        # Not object_type "worker": the audit page links those to one worker's page.
        audit.record(None, "retention.anonymise", "retention", cutoff.last_day, detail)
    db.session.commit()
    return report


def _count_due(cutoff: Cutoff) -> RetentionReport:
    due = due_workers(cutoff).subquery()
    workers = db.session.scalar(select(func.count()).select_from(due)) or 0
    messages = db.session.scalar(
        select(func.count()).where(OutboundMessage.worker_id.in_(select(due.c.id)))
    )
    return RetentionReport(workers=workers, messages=messages or 0, dry_run=True)


def _claim_batch(cutoff: Cutoff, size: int, after: int) -> list[tuple[int, date]]:
    query = due_workers(cutoff).where(Worker.id > after).limit(size)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Worker, skip_locked=True)
    return [(row.id, row.birth_date) for row in db.session.execute(query)]


def _anonymise(batch: Sequence[tuple[int, date]], now: datetime) -> int:
    """Overwrite the batch's personal fields and blank their SMS; returns the SMS touched."""
    table = Worker.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == bindparam("worker_id"), table.c.anonymised_at.is_(None))
        .values(
            name=bindparam("new_name"),
            id_number=bindparam("new_id_number"),
            birth_date=bindparam("birth_year"),
            phone="",
            township="",
            notes="",
            group_code=None,
            # A pending self-registration leaves the review list: nobody will accept it now.
            decline_reason=case(
                (table.c.status == PENDING, UNREVIEWED_REASON), else_=table.c.decline_reason
            ),
            status=case((table.c.status == PENDING, CANCELLED), else_=table.c.status),
            anonymised_at=now,
            updated_at=now,
            version=table.c.version + 1,
        ),
        [
            {
                "worker_id": worker_id,
                "new_name": anonymised_name(worker_id),
                "new_id_number": anonymised_id_number(worker_id),
                "birth_year": date(born.year, 1, 1),
            }
            for worker_id, born in batch
        ],
    )
    ids = [worker_id for worker_id, _ in batch]
    om = OutboundMessage
    db.session.execute(
        update(om)
        .where(om.worker_id.in_(ids), om.status == m.MSG_PENDING)
        .values(status=m.MSG_CANCELLED),
        execution_options={"synchronize_session": False},
    )
    result = db.session.execute(
        update(om).where(om.worker_id.in_(ids)).values(body="", to_phone="", error_message=None),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _scrub_worker_audit(worker_ids: list[int]) -> int:
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "worker",
            AuditEvent.object_id.in_([str(i) for i in worker_ids]),
        )
    )
    changed = 0
    for event in events:
        if any(key in (event.detail or {}) for key in PERSONAL_AUDIT_KEYS):
            event.detail = {k: v for k, v in event.detail.items() if k not in PERSONAL_AUDIT_KEYS}
            changed += 1
    return changed


def _scrub_export_searches(before: datetime) -> int:
    """An export's search text may be a name or number: drop it once past retention."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "worker.export", AuditEvent.at <= before)
    )
    changed = 0
    for event in events:
        filters = (event.detail or {}).get("filters") or {}
        if filters.get("q"):
            kept = {k: v for k, v in filters.items() if k != "q"}
            event.detail = {**event.detail, "filters": kept}
            changed += 1
    return changed


def _forget_import_previews(imports_dir: Path | None, now: datetime) -> int:
    """Import previews never confirmed hold whole rows of personal data: a day is enough."""
    if imports_dir is None or not imports_dir.is_dir():
        return 0
    cutoff = now.timestamp() - IMPORT_PREVIEW_MAX_AGE_S
    removed = 0
    for path in imports_dir.glob("*.json"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _forget_codes(before: datetime) -> int:
    """Delete verification codes (hashes, phones, client addresses) made before ``before``."""
    return db.session.execute(
        delete(VerificationCode).where(VerificationCode.created_at < before)
    ).rowcount


def _scrub_verification_sends(before: datetime) -> int:
    """Blank the numbers of verification SMS sent before ``before`` (they name no worker, so
    the worker rule never reaches them; the code in them was masked from the start)."""
    om = OutboundMessage
    return db.session.execute(
        update(om)
        .where(om.kind == "verification", om.due_at < before, om.to_phone != "")
        .values(to_phone="")
        .execution_options(synchronize_session=False)
    ).rowcount
