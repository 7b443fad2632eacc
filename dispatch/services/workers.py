"""Registering, changing, withdrawing and finding workers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from dispatch.extensions import db
from dispatch.models import User, Worker
from dispatch.models.workers import CANCELLED, REGISTERED
from dispatch.services import audit
from dispatch.services.scope import in_scope
from dispatch.services.worker_fields import Cleaned, Lookups, clean_worker

PER_PAGE = 50


class WorkerError(Exception):
    """A worker request that cannot be carried out."""


class InvalidWorker(WorkerError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class DuplicateWorker(WorkerError):
    """The ID number is registered already."""

    def __init__(self, existing: Worker) -> None:
        super().__init__(existing.id)
        self.existing = existing

    @property
    def withdrawn(self) -> bool:
        """The registration was withdrawn: the form may register the worker again with what was
        typed (create_worker's ``again``)."""
        return self.existing.status == CANCELLED and self.existing.anonymised_at is None


class WorkerLocked(WorkerError):
    """The worker has a seat on a published trip: change the trip instead."""


@dataclass
class Candidate:
    """A cleaned worker about to be written, and the worker it replaces (if any)."""

    cleaned: Cleaned
    worker_id: int | None = None


def check_groups(candidates: Iterable[Candidate], lookups: Lookups) -> None:
    """Travel groups: at most one coach's seats, one pickup, one destination, a shared day. A
    group is a county's code: unrelated families of two counties may pick the same one (the
    join page suggests surname and phone digits, 王1234), and neither learns of the other."""
    by_code: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        values = candidate.cleaned.values
        if values.get("group_code") and candidate.cleaned.ok:
            by_code[(values.get("county_id", ""), values["group_code"])].append(candidate)
    if not by_code:
        return
    existing = _group_members(set(by_code), {c.worker_id for c in candidates if c.worker_id})
    for key, members in by_code.items():
        message = _group_problem(members, existing.get(key, []), lookups.max_group_size)
        for candidate in members if message else ():
            candidate.cleaned.errors["group"] = message


def _group_members(
    keys: set[tuple[str, str]], excluded: set[int]
) -> dict[tuple[str, str], list[dict]]:
    found: dict[tuple[str, str], list[dict]] = defaultdict(list)
    codes = select(Worker).where(
        Worker.group_code.in_({code for _, code in keys}), Worker.status != CANCELLED
    )
    query = in_scope(codes, Worker.county_id, {county for county, _ in keys})
    for worker in db.session.scalars(query):
        key = (worker.county_id, worker.group_code)
        if key in keys and worker.id not in excluded:
            found[key].append(_group_facts(_column_values(worker)))
    return found


def _column_values(worker: Worker) -> dict[str, Any]:
    return {c.key: getattr(worker, c.key) for c in Worker.__table__.columns}


def _group_facts(values: Mapping[str, Any]) -> dict:
    keys = ("pickup_site_id", "destination_site_id", "earliest_date", "latest_date")
    return {k: values[k] for k in keys}


def _group_problem(members: list[Candidate], others: list[dict], limit: int) -> str:
    facts = [_group_facts(c.cleaned.values) for c in members] + others
    if len(facts) > limit:
        return _(
            "This travel group has %(n)d people; a coach seats at most %(limit)d.",
            n=len(facts),
            limit=limit,
        )
    if len({(f["pickup_site_id"], f["destination_site_id"]) for f in facts}) > 1:
        return _("Everyone in a travel group must share the pickup point and destination.")
    if max(f["earliest_date"] for f in facts) > min(f["latest_date"] for f in facts):
        return _("The departure windows of this travel group have no day in common.")
    return ""


def validate(raw: Mapping[str, Any], lookups: Lookups, worker_id: int | None = None) -> Cleaned:
    """Clean one worker's fields including the travel-group rules."""
    candidate = Candidate(clean_worker(raw, lookups), worker_id)
    check_groups([candidate], lookups)
    return candidate.cleaned


def create_worker(
    raw: Mapping[str, Any], user: User | None, lookups: Lookups, *, again: int | None = None
) -> Worker:
    """Register a worker; an ID number already registered raises DuplicateWorker, unless its
    worker is ``again``, withdrawn and the user's: registered again with the details given
    (they replace the old ones), waiting for a seat as when registered."""
    cleaned = validate(raw, lookups)
    existing = _existing(cleaned)
    if existing is not None and not _may_register_again(existing, again, user):
        raise DuplicateWorker(existing)
    if not cleaned.ok:
        raise InvalidWorker(cleaned.errors)
    if existing is not None:
        return _register_again(existing, cleaned, user)
    worker = Worker(**cleaned.values)
    db.session.add(worker)
    db.session.flush()
    audit.record(user, "worker.create", "worker", worker.id, {"name": worker.name})
    return worker


def _may_register_again(existing: Worker, again: int | None, user: User | None) -> bool:
    mine = user is not None and get_visible(user, existing.id) is not None
    return existing.id == again and DuplicateWorker(existing).withdrawn and mine


def _register_again(worker: Worker, cleaned: Cleaned, user: User | None) -> Worker:
    changed = [k for k, v in cleaned.values.items() if getattr(worker, k) != v]
    for key in changed:
        setattr(worker, key, cleaned.values[key])
    if "phone" in changed:
        worker.phone_invalid_at = None  # a new number is worth trying again
    worker.status = REGISTERED
    detail = {"name": worker.name, "fields": changed}
    audit.record(user, "worker.reinstate", "worker", worker.id, detail)
    db.session.flush()
    return worker


def _existing(cleaned: Cleaned) -> Worker | None:
    id_number = cleaned.values.get("id_number")
    return db.session.scalar(select(Worker).filter_by(id_number=id_number)) if id_number else None


def as_raw(worker: Worker) -> dict[str, Any]:
    """A worker's current fields in the input form (for edits and partial updates)."""
    return {
        "name": worker.name,
        "id_number": worker.id_number,
        "phone": worker.phone,
        "county": worker.county_id,
        "township": worker.township,
        "pickup_point": worker.pickup_site_id,
        "destination": worker.destination_site_id,
        "employer": worker.employer_id,
        "earliest_date": worker.earliest_date,
        "latest_date": worker.latest_date,
        "group": worker.group_code or "",
        "sms_consent": worker.sms_consent,
        "notes": worker.notes,
    }


def update_worker(
    worker: Worker, changes: Mapping[str, Any], user: User | None, lookups: Lookups
) -> list[str]:
    """Apply changed fields to a worker; returns the names of the columns that changed."""
    if worker.anonymised_at is not None:
        raise WorkerLocked(_("An anonymised worker cannot be changed."))
    if worker.status == CANCELLED:
        raise WorkerLocked(_("A withdrawn worker cannot be changed."))
    cleaned = validate({**as_raw(worker), **changes}, lookups, worker.id)
    other = _existing(cleaned)
    if other is not None and other.id != worker.id:
        raise DuplicateWorker(other)
    if not cleaned.ok:
        raise InvalidWorker(cleaned.errors)
    changed = [k for k, v in cleaned.values.items() if getattr(worker, k) != v]
    if set(changed) & {"pickup_site_id", "destination_site_id", "earliest_date", "latest_date"}:
        _check_seat_still_fits(worker, cleaned.values, user)
    for key in changed:
        setattr(worker, key, cleaned.values[key])
    if "phone" in changed:
        worker.phone_invalid_at = None  # a new number is worth trying again
    if changed:
        audit.record(user, "worker.update", "worker", worker.id, {"fields": changed})
    db.session.flush()
    return changed


def _check_seat_still_fits(worker: Worker, values: dict[str, Any], user: User | None) -> None:
    from dispatch.services import seats

    try:
        seats.check_worker_edit(worker, values, user)
    except seats.SeatError as error:
        raise WorkerLocked(str(error)) from None


def withdraw_worker(
    worker: Worker, user: User | None, *, by: str = "", remote_addr: str = ""
) -> None:
    """Withdraw a registration: status cancelled, the record kept, a live seat freed.

    ``by`` names who acted when no account did ("worker": the worker on /ticket)."""
    if worker.status != CANCELLED:
        from dispatch.services import seats

        seats.release_withdrawn(worker, user)
        worker.status = CANCELLED
        detail = {"name": worker.name, **({"by": by} if by else {})}
        audit.record(user, "worker.withdraw", "worker", worker.id, detail, remote_addr)
        db.session.flush()


def reinstate_worker(worker: Worker, user: User | None) -> bool:
    """A withdrawn registration made active again (a worker who answered 2 by mistake, a
    withdrawal the worker takes back): waiting for a seat, as when registered. False, and
    nothing changed, when the worker is not withdrawn (a second click, an older page). The seat
    given up is not held: the bus page's waiting list or the next plan seats the worker."""
    if worker.anonymised_at is not None:
        raise WorkerLocked(_("An anonymised worker cannot be reinstated."))
    if worker.status != CANCELLED:
        return False
    worker.status = REGISTERED
    audit.record(user, "worker.reinstate", "worker", worker.id, {"name": worker.name})
    db.session.flush()
    return True


@dataclass(frozen=True)
class WorkerFilter:
    q: str = ""
    county: str = ""
    destination: str = ""
    status: str = ""
    day: date | None = None


def filtered_query(user: User, f: WorkerFilter) -> Select:
    """Workers the user may see, narrowed by search text and filters, newest first."""
    query = visible_workers(user)
    if f.q:
        query = query.where(_search(f.q))
    if f.county:
        query = query.where(Worker.county_id == f.county)
    if f.destination:
        query = query.where(Worker.destination_site_id == f.destination)
    if f.status:
        query = query.where(Worker.status == f.status)
    if f.day:
        query = query.where(and_(Worker.earliest_date <= f.day, Worker.latest_date >= f.day))
    return query.order_by(Worker.id.desc())


def _search(q: str):
    q = q.strip()
    like = f"%{q}%"
    clauses = [Worker.name.like(like), Worker.phone.like(like)]
    if q[-1:].isdigit() or q[-1:].upper() == "X":
        clauses.append(Worker.id_number.like(f"%{q.upper()}"))
    return or_(*clauses)


def filtered(user: User, f: WorkerFilter) -> list[Worker]:
    """Every worker the user sees that matches ``f`` (the export), in list order, with the
    county, points and employer each row names (one query each, not one per value)."""
    query = filtered_query(user, f).options(
        selectinload(Worker.county),
        selectinload(Worker.pickup_site),
        selectinload(Worker.destination_site),
        selectinload(Worker.employer),
    )
    return list(db.session.scalars(query))


def visible_workers(user: User) -> Select:
    """The workers a user's role and counties let them see."""
    return in_scope(select(Worker), Worker.county_id, user.county_ids())


def get_visible(user: User, worker_id: int) -> Worker | None:
    """A worker by id, or None when absent or outside the user's counties."""
    return db.session.scalar(visible_workers(user).where(Worker.id == worker_id))


def page_of(query: Select, page: int, per_page: int = PER_PAGE) -> tuple[list[Worker], int]:
    """One page of a query and the total count."""
    total = (
        db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    page = min(max(page, 1), total // per_page + 1)  # ?page=10**30 must not overflow the offset
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), total
