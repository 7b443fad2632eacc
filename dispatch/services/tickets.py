"""A worker's own ticket (/ticket): the ID number and mobile proved with an SMS code, the
journey as the worker reads it, the signed QR e-ticket, and withdrawing.

Nothing here tells a stranger whether an ID number or mobile is registered: a lookup that
matches no worker sends no SMS, yet counts against the same limits and gets the same answer.
Between the two steps the browser's (signed, not encrypted) session keeps the mobile and a
keyed hash of the ID number, never the ID number itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import segno
from flask_babel import gettext as _
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import (
    IdNumberError,
    PhoneError,
    mask_id_number,
    mask_phone,
    normalise_mobile,
    parse_id_number,
)
from dispatch.models import SeatAssignment, WelfareHandout, Worker
from dispatch.models import workers as w
from dispatch.models.selfservice import PURPOSE_TICKET
from dispatch.services import etickets, seats, verification, workers
from dispatch.services.notices.journeys import (
    NoticeSettings,
    handout_of,
    journey_of,
    pickup_stop,
    plate_of,
)
from dispatch.services.notices.notices import schedule_pending_changes
from dispatch.services.notices.texts import cn_phone

PENDING_FOR = timedelta(minutes=10)  # between asking for a code and typing it
# What the page says about the worker (the template words each one).
PENDING, WAITING, SEATED, BOARDED = "pending", "waiting", "seated", "boarded"
ARRIVED, NO_SHOW, CANCELLED = "arrived", "no_show", "cancelled"
DECLINED = "declined"  # a self-registration the county did not accept


class LookupInvalid(ValueError):
    """The ID number or mobile is malformed (which says nothing about who is registered)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class CannotWithdraw(Exception):
    """The bus has left, or the worker is already on it: the hotline helps instead."""


class TryAgain(Exception):
    """Someone changed the bus at the same moment: nothing was done."""


@dataclass(frozen=True)
class Lookup:
    id_number: str
    phone: str  # E.164


@dataclass(frozen=True)
class Ride:
    """The seat on a published plan's bus, as the ticket page shows it."""

    trip_code: str
    day: date
    pickup_at: datetime  # local
    pickup_name: str
    pickup_address: str
    destination: str
    seat_no: int
    plate: str | None  # None until a coach is assigned
    contact_phone: str
    contact_is_driver: bool
    welfare_place: str
    welfare_opens: datetime  # local
    welfare_closes: datetime  # local
    pack_given: bool
    qr_svg: str
    has_left: bool


@dataclass(frozen=True)
class Ticket:
    name: str
    masked_id: str
    status: str  # one of the constants above
    destination: str
    earliest: date
    latest: date
    decline_reason: str
    ride: Ride | None
    can_withdraw: bool
    hotline: str


def parse_lookup(id_raw: str, phone_raw: str) -> Lookup:
    """The ID number and mobile as stored; LookupInvalid says what is wrong with them."""
    errors: dict[str, str] = {}
    try:
        id_number = parse_id_number(id_raw or "").value
    except IdNumberError:
        id_number = ""
        errors["id_number"] = _("Check the ID number: 18 characters, the last may be X.")
    try:
        phone = normalise_mobile(phone_raw or "")
    except PhoneError:
        phone = ""
        errors["phone"] = _("Check the mobile number: 11 digits starting with 1.")
    if errors:
        raise LookupInvalid(errors)
    return Lookup(id_number, phone)


def request_code(
    lookup: Lookup, client_ip: str, now: datetime, config: Mapping[str, Any]
) -> tuple[dict[str, Any], verification.Outgoing | None]:
    """Issue a code when the pair names a worker, else only count the request; the value the
    session keeps until the code is typed, and the code's SMS for the caller to send once the
    answer is out (None for a stranger), so neither the answer nor its timing tells who is
    registered. Raises verification.TooMany. Commits."""
    id_key = _id_key(config, lookup.id_number)
    outgoing = None
    if _worker_for(lookup.phone, id_key, config) is not None:
        outgoing = verification.issue_code(lookup.phone, PURPOSE_TICKET, client_ip, now, config)
    else:
        verification.count_unsent(lookup.phone, PURPOSE_TICKET, client_ip, now, config)
    return {"phone": lookup.phone, "id_key": id_key, "at": now.timestamp()}, outgoing


def open_ticket(
    pending: Mapping[str, Any], code: str, now: datetime, config: Mapping[str, Any]
) -> int | None:
    """The worker's id when ``code`` is right for the pending lookup, else None (each wrong
    try counts against the code's five). Commits."""
    phone, id_key, at = pending.get("phone"), pending.get("id_key"), pending.get("at")
    if not (isinstance(phone, str) and isinstance(id_key, str) and isinstance(at, int | float)):
        return None
    if now.timestamp() - at > PENDING_FOR.total_seconds() or not code.strip().isdigit():
        return None
    if not verification.check_code(phone, PURPOSE_TICKET, code.strip(), now, config):
        return None
    worker = _worker_for(phone, id_key, config)
    return worker.id if worker is not None else None


def pending_phone(pending: Mapping[str, Any]) -> str:
    """The mobile a code was asked for, masked (138****8000) for the page."""
    phone = pending.get("phone")
    return mask_phone(phone) if isinstance(phone, str) else ""


def _id_key(config: Mapping[str, Any], id_number: str) -> str:
    return verification.keyed_hash(config, f"ticket-id:{id_number}")


def _worker_for(phone: str, id_key: str, config: Mapping[str, Any]) -> Worker | None:
    candidates = db.session.scalars(
        select(Worker).where(Worker.phone == phone, Worker.anonymised_at.is_(None))
    )
    # Compared as keyed hashes: the pending lookup never holds the ID number itself.
    return next(
        (c for c in candidates if hmac.compare_digest(_id_key(config, c.id_number), id_key)),
        None,
    )


def ticket_of(
    worker_id: int, now: datetime, config: Mapping[str, Any], locale: str = "zh"
) -> Ticket | None:
    """What the worker's ticket page shows, places named in ``locale`` (an address stays as
    written); None when the worker is gone or anonymised."""
    worker = db.session.get(Worker, worker_id)
    if worker is None or worker.anonymised_at is not None:
        return None
    s = NoticeSettings.from_config(config)
    seat = seats.live_seat(worker.id) if worker.status != w.CANCELLED else None
    ride = _ride(seat, now, s, str(config.get("SECRET_KEY") or ""), locale) if seat else None
    status = _status(worker, seat)
    return Ticket(
        name=worker.name,
        masked_id=mask_id_number(worker.id_number),
        status=status,
        destination=worker.destination_site.display_name(locale),
        earliest=worker.earliest_date,
        latest=worker.latest_date,
        decline_reason=worker.decline_reason or "",
        ride=ride,
        can_withdraw=status in (PENDING, WAITING, SEATED) and not (ride and ride.has_left),
        hotline=s.hotline,
    )


def _status(worker: Worker, seat: SeatAssignment | None) -> str:
    if worker.status == w.CANCELLED:
        return DECLINED if worker.decline_reason else CANCELLED
    if worker.status == w.PENDING:
        return PENDING
    if seat is None:
        return WAITING
    if seat.arrived_at is not None or worker.status == w.ARRIVED:
        return ARRIVED
    if seat.boarded_at is not None:
        return BOARDED
    return NO_SHOW if seat.no_show_at is not None else SEATED


def _ride(
    seat: SeatAssignment, now: datetime, s: NoticeSettings, secret: str, locale: str = "zh"
) -> Ride:
    journey = journey_of(seat)
    trip, zone = seat.trip, ZoneInfo(s.tz)
    stop = pickup_stop(trip, seat.worker)
    site = stop.site if stop is not None else seat.worker.pickup_site
    place, opens, closes = handout_of(journey, s, _handouts(site.id, s.local(journey.pickup_at)))
    driver = trip.driver1 or trip.driver2
    return Ride(
        trip_code=trip.code,
        day=journey.pickup_at.astimezone(zone).date(),
        pickup_at=journey.pickup_at.astimezone(zone),
        pickup_name=site.display_name(locale),
        pickup_address=site.address,
        destination=seat.worker.destination_site.display_name(locale),
        seat_no=seat.seat_no,
        plate=None if trip.coach is None else plate_of(trip),
        contact_phone=cn_phone(driver.phone if driver is not None else s.hotline),
        contact_is_driver=driver is not None,
        welfare_place=place,
        welfare_opens=opens.astimezone(zone),
        welfare_closes=closes.astimezone(zone),
        pack_given=seat.pack_given_at is not None,
        qr_svg=qr_svg(etickets.ticket_text(seat.worker_id, trip.id, seat.seat_no, secret)),
        has_left=trip.departure_at <= now or journey.pickup_at <= now,
    )


def _handouts(site_id: str, pickup_local: datetime) -> dict[tuple[str, date], WelfareHandout]:
    row = db.session.scalar(
        select(WelfareHandout).filter_by(site_id=site_id, date=pickup_local.date())
    )
    return {(row.site_id, row.date): row} if row is not None else {}


def qr_svg(text: str) -> str:
    """``text`` as an inline SVG QR code (error correction M, the standard quiet zone),
    black on white so a screenshot scans on any phone; sized by the page's CSS."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_inline(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass="qr"
    )


def withdraw(worker_id: int, now: datetime, config: Mapping[str, Any], remote_addr: str) -> None:
    """Withdraw the worker as a coordinator's withdrawal does (status, seat freed, change
    recorded and its cancellation notice queued), the audit naming the worker's self-service.
    Raises CannotWithdraw once the bus has left or the worker boarded, TryAgain on a
    concurrent change of the bus. Flushes."""
    ticket = ticket_of(worker_id, now, config)
    if ticket is None or ticket.status in (CANCELLED, DECLINED):
        return
    if not ticket.can_withdraw:
        raise CannotWithdraw()
    worker = db.session.get(Worker, worker_id)
    try:
        workers.withdraw_worker(worker, None, by="worker", remote_addr=remote_addr)
    except seats.SeatConflict:
        raise TryAgain() from None
    schedule_pending_changes(now, config)
