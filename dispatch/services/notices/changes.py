"""Changes to a published trip turned into notices: a new version per worker, the old
unsent ones withdrawn, a cancellation when the worker no longer travels (no writes but
the withdrawals; the caller inserts the drafts). A new driver to call (field "driver") brings
the departure notice again, the only one that gives the driver's phone.

A change notice names what differs between the journey as it now stands and what the worker
was last told (the variables of the last departure, change or reminder that reached them),
never what a TripChange's field alone suggests: a re-seat on the same bus, a coach swapped
for one with the same plate, or a freed and re-taken seat then says nothing new (the earlier
code named the plate and seat whenever the bus row changed, or a pending notice was
withdrawn, whether or not they had).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func, select, update

from dispatch.extensions import db
from dispatch.models import OutboundMessage, SeatAssignment, Trip, TripChange, Worker
from dispatch.models import messages as m
from dispatch.models.workers import CANCELLED
from dispatch.notify.writer import Draft
from dispatch.services.notices import texts
from dispatch.services.notices.journeys import (
    CANCELLATION,
    CHANGE,
    DEPARTURE,
    REMINDER,
    WAITING,
    WELFARE,
    Journey,
    NoticeSettings,
    journey_drafts,
    journey_facts,
    journey_of,
    pickup_stop,
    send_timing,
    welfare_handouts,
    worker_draft,
)

# Went out (or a coordinator was told to phone): the worker knows what that row said.
TOLD = (m.MSG_SENDING, m.MSG_SENT, m.MSG_DELIVERED, m.MSG_UNKNOWN, m.MSG_SUPPRESSED)
JOURNEY_KINDS = (DEPARTURE, REMINDER, CHANGE, CANCELLATION)
# The variables a worker's journey notices state, compared to say what changed.
FACTS = ("time", "pickup", "plate", "seat")


def change_drafts(trip: Trip, now: datetime, s: NoticeSettings) -> list[Draft]:
    """The notices the trip's unnotified changes call for; the changes are marked notified."""
    changes = db.session.scalars(
        select(TripChange)
        .where(TripChange.trip_id == trip.id, TripChange.notified_at.is_(None))
        .order_by(TripChange.id)
    ).all()
    drafts: list[Draft] = []
    for worker_id, fields in fields_by_worker(trip, changes).items():
        worker = db.session.get(Worker, worker_id)
        if worker is not None:
            drafts += worker_changes(trip, worker, fields, now, s)
    for change in changes:
        change.notified_at = now
    db.session.flush()
    return drafts


def fields_by_worker(trip: Trip, changes: Iterable[TripChange]) -> dict[int, set[str]]:
    """Changed fields per affected worker; a change naming no worker affects everyone seated."""
    seated = [seat.worker_id for seat in trip.seats]
    fields: dict[int, set[str]] = {}
    for change in changes:
        for worker_id in [change.worker_id] if change.worker_id is not None else seated:
            fields.setdefault(worker_id, set()).add(change.field)
    return fields


def worker_changes(
    trip: Trip, worker: Worker, fields: set[str], now: datetime, s: NoticeSettings
) -> list[Draft]:
    """The notices one worker needs after ``fields`` of their journey on ``trip`` changed."""
    trip_ids = [t.id for t in trip.plan.trips]
    seat = _live_seat(trip.plan_id, worker.id)
    if seat is not None and seat.trip_id != trip.id:
        _cancel_pending(worker.id, [trip.id], "moved to another bus")
        return []  # that bus's own changes say where the worker now sits
    told = last_told(worker.id, trip_ids)
    version = _next_version(worker.id, trip.id)
    cancelled = _cancel_pending(worker.id, trip_ids, f"superseded by version {version}")
    if worker.status == CANCELLED:
        return []
    if seat is None:
        return _cancellation(trip, worker, version, now, s) if told is not None else []
    j = journey_of(seat)
    handouts = welfare_handouts(trip.plan)
    if told is None:  # nothing reached the worker yet: the whole set, as at publishing
        kinds = [REMINDER, WELFARE]
        if j.trip.coach is not None:
            kinds.insert(0, DEPARTURE)
        elif not _waiting_told(worker.id, trip.id):
            kinds.insert(0, WAITING)
        return journey_drafts(j, version, now, s, handouts, kinds)
    renewed = [k for k in (REMINDER, WELFARE) if k in cancelled]
    if j.trip.coach is None:  # the bus lost its coach: no plate to give until the next one
        kinds = [WAITING] + [k for k in renewed if k == WELFARE]
        return journey_drafts(j, version, now, s, handouts, kinds)
    facts = changed_facts(told, j, s, fields)
    if "driver" in fields or DEPARTURE in cancelled:
        # the driver to call changed (only the departure notice names them), or its unsent
        # departure notice was withdrawn: the departure notice again, as the journey stands,
        # and a change notice only for a new time or place, which the worker must not miss
        renewed.insert(0, DEPARTURE)
        facts = [f for f in facts if f in ("time", "pickup")]
    change = _change(j, version, now, s, facts)
    return ([change] if change else []) + journey_drafts(j, version, now, s, handouts, renewed)


def changed_facts(
    told: Mapping[str, str] | None, j: Journey, s: NoticeSettings, fields: set[str]
) -> list[str]:
    """The facts (FACTS) that differ from what the worker was last told."""
    now_told = texts.reminder(s.signature, **journey_facts(j, s)).params
    if not told or not set(FACTS) <= set(told):  # a row written before variables were kept
        legacy = {"time": "time", "pickup": "pickup", "bus": "plate", "seat": "seat"}
        return [legacy[f] for f in fields if f in legacy]
    return [key for key in FACTS if not _same(str(told[key]), now_told[key])]


def _same(told: str, now: str) -> bool:
    """Equal, or ``told`` is ``now`` shortened (…) to fit its segment."""
    if told.endswith(texts.ELLIPSIS):
        return now.startswith(told[:-1])
    return told == now or (now.endswith(texts.ELLIPSIS) and told.startswith(now[:-1]))


def _change(
    j: Journey, version: int, now: datetime, s: NoticeSettings, changed: list[str]
) -> Draft | None:
    if j.pickup_at <= now or not changed:
        return None
    notice = texts.change(s.signature, changed=changed, **journey_facts(j, s))
    due, urgent = send_timing(now, j.pickup_at, now, s)
    return worker_draft(j, version, notice, due, j.pickup_at, urgent)


def _cancellation(
    trip: Trip, worker: Worker, version: int, now: datetime, s: NoticeSettings
) -> list[Draft]:
    stop = pickup_stop(trip, worker)
    pickup_at = stop.eta if stop is not None else trip.departure_at
    if pickup_at <= now:
        return []
    local = s.local(pickup_at)
    notice = texts.cancellation(s.signature, day=local.date(), at=local.time(), hotline=s.hotline)
    j = Journey(worker, trip, 0, pickup_at, "")
    due, urgent = send_timing(now, pickup_at, now, s)
    return [worker_draft(j, version, notice, due, pickup_at, urgent)]


def _live_seat(plan_id: int, worker_id: int) -> SeatAssignment | None:
    return db.session.scalar(
        select(SeatAssignment)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .where(
            SeatAssignment.plan_id == plan_id,
            SeatAssignment.worker_id == worker_id,
            Trip.cancelled_at.is_(None),
        )
    )


def last_told(worker_id: int, trip_ids: list[int]) -> dict[str, str] | None:
    """The variables of the last journey notice that reached the worker (or a coordinator
    who phones them), when it still stands ({} for a row without them); None if none or
    the last one was a cancellation."""
    last = db.session.execute(
        select(OutboundMessage.kind, OutboundMessage.params)
        .where(
            OutboundMessage.worker_id == worker_id,
            OutboundMessage.trip_id.in_(trip_ids),
            OutboundMessage.kind.in_(JOURNEY_KINDS),
            OutboundMessage.status.in_(TOLD),
        )
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    ).first()
    if last is None or last.kind == CANCELLATION:
        return None
    return dict(last.params or {})


def _waiting_told(worker_id: int, trip_id: int) -> bool:
    """Whether the worker already has the "on the list" notice for this bus."""
    return (
        db.session.scalar(
            select(OutboundMessage.id)
            .where(
                OutboundMessage.worker_id == worker_id,
                OutboundMessage.trip_id == trip_id,
                OutboundMessage.kind == WAITING,
                OutboundMessage.status.in_(TOLD),
            )
            .limit(1)
        )
        is not None
    )


def _next_version(worker_id: int, trip_id: int) -> int:
    latest = db.session.scalar(
        select(func.max(OutboundMessage.version)).where(
            OutboundMessage.worker_id == worker_id, OutboundMessage.trip_id == trip_id
        )
    )
    return (latest or 0) + 1


def _cancel_pending(worker_id: int, trip_ids: list[int], reason: str) -> set[str]:
    """Withdraw the worker's unsent notices for these trips; the kinds withdrawn."""
    om = OutboundMessage
    result = db.session.execute(
        update(om)
        .where(om.worker_id == worker_id, om.trip_id.in_(trip_ids), om.status == m.MSG_PENDING)
        .values(status=m.MSG_CANCELLED, error_message=reason)
        .returning(om.kind),
        execution_options={"synchronize_session": False},
    )
    return set(result.scalars())
