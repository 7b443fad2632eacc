"""Workers' answers to the departure notice (issue 18 §4): "1" coming, "2" not coming, an
opt-out word, or anything else for a coordinator to read.

A 1 or a 2 counts only for a seat the answer can be about: the worker's seat on a published,
running bus that has not yet reached their pickup point and whose departure (or change)
notice went out to them. A "2" gives the seat up as a coordinator's withdrawal does; the bus
page then offers it to the waiting list. Everything else a person must read lands on the
coordinator's list of unrecognised replies. Every reply is stored once: a replay (the same
MessageSid or sequence_id) changes nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from dispatch.extensions import db
from dispatch.identity import PhoneError, normalise_mobile
from dispatch.models import InboundReply, OutboundMessage, Plan, SeatAssignment, Trip, Worker
from dispatch.models import messages as m
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.models.workers import CANCELLED
from dispatch.notify.callbacks import InboundSms
from dispatch.notify.suppression import is_opt_out_reply, record_opt_out_reply
from dispatch.services import seats
from dispatch.services.notices.notices import pickup_stop, schedule_changes
from dispatch.services.workers import withdraw_worker

ANSWERS = {"1": m.REPLY_CONFIRMED, "2": m.REPLY_DECLINED}
# Notices a worker can be answering: the departure notice, or a change that re-seated them.
ANSWERED_KINDS = ("departure", "change")
# The notice reached the provider (or may have: a timeout); a suppressed one never went out.
WENT_OUT = (m.MSG_SENDING, m.MSG_SENT, m.MSG_DELIVERED, m.MSG_UNKNOWN)


def classify(body: str) -> str:
    """What a reply says: 1 → confirmed, 2 → declined, an opt-out word, else unrecognised.

    Full-width digits, spaces and punctuation around the digit ("１", " 1 ", "1。", "【2】")
    are tolerated; anything more ("1好的", "12") is for a person to read."""
    if is_opt_out_reply(body):
        return m.REPLY_OPT_OUT
    return ANSWERS.get(_bare(body), m.REPLY_UNRECOGNISED)


def _bare(body: str) -> str:
    """The reply without the spaces and punctuation around it (NFKC: full-width → ASCII)."""
    text = unicodedata.normalize("NFKC", body)
    edge = {c for c in text if c.isspace() or unicodedata.category(c)[0] in "PZS"}
    return text.strip("".join(edge))


def receive(sms: InboundSms, now: datetime, settings: Mapping[str, Any]) -> InboundReply | None:
    """Store one inbound SMS and act on it; None when it is a replay (nothing changes)."""
    if sms.provider_sid and _seen(sms.provider_sid):
        return None
    phone = stored_phone(sms.from_phone)
    workers = workers_on(phone)
    reply = InboundReply(
        provider=sms.provider,
        provider_sid=sms.provider_sid,
        from_phone=phone,
        body=sms.body,
        received_at=now,
        outcome=classify(sms.body),
        worker_id=workers[0].id if workers else None,
    )
    if not _stored(reply):
        return None  # the same message, stored a moment ago by a concurrent request
    if reply.outcome == m.REPLY_OPT_OUT:
        record_opt_out_reply(phone, sms.body, now)
    elif reply.outcome in (m.REPLY_CONFIRMED, m.REPLY_DECLINED):
        _answer(reply, workers, now, settings)
    if reply.outcome == m.REPLY_UNRECOGNISED and reply.trip_id is None:
        reply.trip_id = _current_trip(workers)  # the coordinator sees which bus it may be about
    db.session.flush()
    return reply


def stored_phone(raw: str) -> str:
    """A sender's number as workers' numbers are stored (E.164), or as given if it is none."""
    try:
        return normalise_mobile(raw)
    except PhoneError:
        return raw.strip()[:20]


def _seen(provider_sid: str) -> bool:
    return (
        db.session.scalar(select(InboundReply.id).where(InboundReply.provider_sid == provider_sid))
        is not None
    )


def _stored(reply: InboundReply) -> bool:
    """Insert the reply first, so that a replay racing this one is refused by the unique sid."""
    try:
        with db.session.begin_nested():
            db.session.add(reply)
            db.session.flush()
    except IntegrityError:
        return False
    return True


def workers_on(phone: str) -> list[Worker]:
    """The workers registered with this number (a family may share one), oldest first."""
    if not phone:
        return []
    query = select(Worker).where(Worker.phone == phone, Worker.anonymised_at.is_(None))
    return list(db.session.scalars(query.order_by(Worker.id)))


def answerable_seats(workers: Collection[Worker], now: datetime) -> list[SeatAssignment]:
    """The seats a 1 or 2 from these workers can be about, soonest pickup first."""
    ids = [w.id for w in workers if w.status != CANCELLED]
    if not ids:
        return []
    told = select(OutboundMessage.id).where(
        OutboundMessage.worker_id == SeatAssignment.worker_id,
        OutboundMessage.trip_id == SeatAssignment.trip_id,
        OutboundMessage.kind.in_(ANSWERED_KINDS),
        OutboundMessage.status.in_(WENT_OUT),
    )
    query = (
        select(SeatAssignment)
        .join(Trip, Trip.id == SeatAssignment.trip_id)
        .join(Plan, Plan.id == SeatAssignment.plan_id)
        .where(
            SeatAssignment.worker_id.in_(ids),
            SeatAssignment.boarded_at.is_(None),
            SeatAssignment.no_show_at.is_(None),
            Plan.status == PLAN_PUBLISHED,
            Trip.cancelled_at.is_(None),
            told.exists(),
        )
    )
    found = [(_pickup_at(s), s) for s in db.session.scalars(query)]
    return [s for at, s in sorted(found, key=lambda pair: pair[0]) if at > now]


def _current_trip(workers: list[Worker]) -> int | None:
    """The bus the first of these workers with a live seat sits on, if any."""
    for worker in workers:
        seat = seats.live_seat(worker.id)
        if seat is not None:
            return seat.trip_id
    return None


def _pickup_at(seat: SeatAssignment) -> datetime:
    stop = pickup_stop(seat.trip, seat.worker)
    return stop.eta if stop is not None else seat.trip.departure_at


def _answer(
    reply: InboundReply, workers: list[Worker], now: datetime, settings: Mapping[str, Any]
) -> None:
    """A 1 confirms every seat it can be about; a 2 gives up the one seat it can be about.

    Without such a seat (the bus left, the seat was given up) or with several on a shared
    number for a 2 (whose seat?), the reply is left for a person to read."""
    answerable = answerable_seats(workers, now)
    if not answerable or (reply.outcome == m.REPLY_DECLINED and len(answerable) > 1):
        reply.outcome = m.REPLY_UNRECOGNISED
        return
    reply.worker_id, reply.trip_id = answerable[0].worker_id, answerable[0].trip_id
    if reply.outcome == m.REPLY_CONFIRMED:
        for seat in answerable:
            seat.reply, seat.replied_at = m.REPLY_CONFIRMED, now
    else:
        decline(answerable[0], now, settings)


def decline(seat: SeatAssignment, now: datetime, settings: Mapping[str, Any]) -> None:
    """The worker is not coming: their seat is freed as a coordinator's withdrawal frees it,
    the notices still to come are withdrawn, and the audit says the worker's SMS did it."""
    trip = seat.trip
    seat.reply, seat.replied_at = m.REPLY_DECLINED, now
    withdraw_worker(seat.worker, None, by="sms")
    schedule_changes(trip, now, settings)


def forget(worker_ids: Collection[int], unknown_before: datetime | None = None) -> int:
    """PIPL: blank the text and number of these workers' replies and, given ``unknown_before``,
    of replies from unknown numbers received by then (retention calls it); rows touched."""
    ir = InboundReply
    whose = ir.worker_id.in_(list(worker_ids))
    if unknown_before is not None:
        whose = or_(whose, and_(ir.worker_id.is_(None), ir.received_at <= unknown_before))
    result = db.session.execute(
        update(ir)
        .where(whose, or_(ir.body != "", ir.from_phone != ""))
        .values(body="", from_phone=""),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
