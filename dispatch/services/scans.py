"""QR boarding: an e-ticket read by the driver's phone marks its passenger boarded.

The phone names each scan (``scan_uid``) and may send it again (queued offline, a retry
after a lost answer): the first answer is stored in BoardingScan and every replay gets the
same answer, so a scan never counts twice. The ticket is judged by where its worker sits
*now*, not by the trip written in it: a worker moved to this bus boards with an old
screenshot, and one moved away is sent to the right bus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.extensions import db
from dispatch.models import BoardingScan, Plan, SeatAssignment, Trip, Worker
from dispatch.models import selfservice as s
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.services import etickets
from dispatch.services import manifest as manifests

UID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_TEXT = 500  # our tickets are ~50 characters; anything longer is not ours
CLOCK_SLACK = timedelta(minutes=5)  # a phone clock ahead of ours by this much is believed


class ScanRefused(Exception):
    """A scan that is not judged at all (malformed, or its uid belongs to another bus)."""


@dataclass(frozen=True)
class ScanOutcome:
    outcome: str  # selfservice.SCAN_*
    worker_id: int | None  # whose ticket it was, when it was one of ours
    worker: Worker | None  # a passenger of this bus (None for other buses' and unknown tickets)
    seat_no: int | None
    other_trip: str | None  # the bus a wrong-bus ticket's worker rides
    replay: bool = False

    @property
    def counted(self) -> bool:
        return self.outcome == s.SCAN_BOARDED


def valid_uid(value: object) -> bool:
    return isinstance(value, str) and UID.fullmatch(value) is not None


def scan_time(value: object, now: datetime) -> datetime:
    """When the phone read the ticket (ms since the epoch), else now; never in our future."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return now
    try:
        moment = datetime.fromtimestamp(value / 1000, tz=now.tzinfo)
    except (OverflowError, OSError, ValueError):
        return now
    return now if moment > now + CLOCK_SLACK or moment < now - timedelta(days=2) else moment


def record_scan(
    trip: Trip,
    scan_uid: str,
    text: str,
    scanned_at: datetime,
    now: datetime,
    secret_key: str,
    tz: str,
) -> ScanOutcome:
    """Judge one scan on ``trip`` and board its passenger when it is theirs (flushed).

    Raises ScanRefused for a malformed scan and manifest.MarkError when the bus takes no
    marks (cancelled, not published, too early)."""
    if not valid_uid(scan_uid) or not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ScanRefused("a scan needs scan_uid and text")
    earlier = _earlier(trip, scan_uid)
    if earlier is not None:
        return earlier
    if not manifests.is_open(trip):  # the same refusals as a tap on a name
        raise manifests.MarkError("this trip is not running (cancelled or not published)")
    if manifests.too_early(trip, now, tz):
        raise manifests.MarkTooEarly("check-in has not opened")
    result = _judge(trip, etickets.read_ticket(text, secret_key), now, tz)
    return _store(trip, scan_uid, result, scanned_at, now)


def _judge(trip: Trip, facts: etickets.TicketFacts | None, now: datetime, tz: str) -> ScanOutcome:
    if facts is None:
        return ScanOutcome(s.SCAN_INVALID, None, None, None, None)
    seat = next((x for x in trip.seats if x.worker_id == facts.worker_id), None)
    if seat is None:
        elsewhere = current_trip(facts.worker_id, trip.plan_id)
        if elsewhere is not None:
            return ScanOutcome(s.SCAN_WRONG_BUS, facts.worker_id, None, None, elsewhere.code)
        return ScanOutcome(s.SCAN_CANCELLED, facts.worker_id, None, None, None)
    if seat.boarded_at is not None:
        return ScanOutcome(s.SCAN_DUPLICATE, seat.worker_id, seat.worker, seat.seat_no, None)
    manifests.set_mark(trip, seat.worker_id, manifests.ATTENDANCE, "boarded", now, None, "scan", tz)
    return ScanOutcome(s.SCAN_BOARDED, seat.worker_id, seat.worker, seat.seat_no, None)


def current_trip(worker_id: int, plan_id: int) -> Trip | None:
    """The live bus of a published plan the worker sits on (this plan's first)."""
    query = (
        select(Trip)
        .join(SeatAssignment, SeatAssignment.trip_id == Trip.id)
        .join(Plan, Plan.id == Trip.plan_id)
        .join(Worker, Worker.id == SeatAssignment.worker_id)
        .where(
            SeatAssignment.worker_id == worker_id,
            Plan.status == PLAN_PUBLISHED,
            Trip.cancelled_at.is_(None),
            Worker.status != "cancelled",
        )
        .order_by(Trip.plan_id != plan_id, Trip.date)
        .limit(1)
    )
    return db.session.scalars(query).first()


def _earlier(trip: Trip, scan_uid: str) -> ScanOutcome | None:
    """The answer already given to this scan (a replay), or None for a new scan."""
    row = db.session.scalars(select(BoardingScan).where(BoardingScan.scan_uid == scan_uid)).first()
    if row is None:
        return None
    if row.trip_id != trip.id:
        raise ScanRefused("this scan belongs to another bus")
    seat = next((x for x in trip.seats if x.worker_id == row.worker_id), None)
    other = None
    if row.outcome == s.SCAN_WRONG_BUS and row.worker_id is not None:
        found = current_trip(row.worker_id, trip.plan_id)
        other = found.code if found else None
    return ScanOutcome(
        row.outcome,
        row.worker_id,
        seat.worker if seat else None,
        seat.seat_no if seat else None,
        other,
        replay=True,
    )


def _store(
    trip: Trip, scan_uid: str, result: ScanOutcome, scanned_at: datetime, now: datetime
) -> ScanOutcome:
    """Keep the scan; a twin that got in first (sent twice at once) gives its own answer."""
    row = BoardingScan(
        scan_uid=scan_uid,
        trip_id=trip.id,
        worker_id=result.worker_id,
        outcome=result.outcome,
        scanned_at=scanned_at,
        received_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return _earlier(trip, scan_uid) or result
    return result


def recent(trip: Trip, limit: int = 20) -> list[BoardingScan]:
    """The bus's latest scans, newest first (for the coordinator)."""
    query = (
        select(BoardingScan)
        .where(BoardingScan.trip_id == trip.id)
        .order_by(BoardingScan.received_at.desc(), BoardingScan.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
