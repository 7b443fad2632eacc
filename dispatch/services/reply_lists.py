"""What the pages show of the workers' replies: per bus who confirmed and who declined, the
seats a "2" freed with the waiting workers who fit them, and the coordinator's list of
replies a person must read (services/replies.py decides what a reply means)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from dispatch.extensions import db
from dispatch.identity import mask_phone
from dispatch.models import InboundReply, Trip, TripChange, User, Worker
from dispatch.models import messages as m
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.services import audit, plan_queries, scope, seats
from dispatch.services.replies import answerable_seats, classify, workers_on

LIST_LIMIT = 300


@dataclass(frozen=True)
class ReplyCounts:
    confirmed: int = 0  # seated passengers who answered 1
    declined: int = 0  # workers who answered 2 and gave their seat up
    no_answer: int = 0  # seated passengers who have not answered

    def as_dict(self) -> dict[str, int]:
        return {"confirmed": self.confirmed, "declined": self.declined, "no_answer": self.no_answer}


@dataclass
class BusReplies:
    counts: ReplyCounts
    declined: list[InboundReply]  # the "2"s that freed a seat of this bus, oldest first
    freed_seats: list[int] = field(default_factory=list)  # freed by a "2" and still free
    offer: list[Worker] = field(default_factory=list)  # waiting workers who fit the bus


def reply_counts(trips: Iterable[Trip]) -> dict[int, ReplyCounts]:
    """Confirmed, declined and not-yet-answered passengers of each bus."""
    trips = list(trips)
    declined = Counter(
        dict(
            db.session.execute(
                select(InboundReply.trip_id, func.count(InboundReply.id))
                .where(
                    InboundReply.trip_id.in_([t.id for t in trips]),
                    InboundReply.outcome == m.REPLY_DECLINED,
                )
                .group_by(InboundReply.trip_id)
            ).all()
        )
    )
    return {t.id: _counts(t, declined[t.id]) for t in trips}


def _counts(trip: Trip, declined: int) -> ReplyCounts:
    confirmed = sum(1 for s in trip.seats if s.reply == m.REPLY_CONFIRMED)
    return ReplyCounts(confirmed, declined, len(trip.seats) - confirmed)


# Why a bus's passengers have not been asked to confirm yet (not_asked), as its page says it.
DRAFT, WRITING, NO_COACH = "draft", "writing", "no_coach"


def not_asked(trip: Trip) -> str | None:
    """Why nobody on the bus has been asked anything yet, or None once the departure notices
    went out: a draft; a plan whose notices the scheduler is still writing; a bus with no
    coach, whose passengers were told only that they are on the list."""
    if trip.plan.status != PLAN_PUBLISHED:
        return DRAFT
    if trip.plan.notices_written_at is None:
        return WRITING
    return NO_COACH if trip.coach_id is None else None


def bus_replies(trip: Trip, user: User, now: datetime) -> BusReplies | None:
    """The bus page's replies: counts, the declines, and the freed seats offered to the waiting;
    None while nobody has been asked (not_asked)."""
    if not_asked(trip):
        return None
    declined = list(
        db.session.scalars(
            select(InboundReply)
            .where(InboundReply.trip_id == trip.id, InboundReply.outcome == m.REPLY_DECLINED)
            .options(joinedload(InboundReply.worker))  # the page names each decliner
            .order_by(InboundReply.received_at, InboundReply.id)
        )
    )
    result = BusReplies(_counts(trip, len(declined)), declined)
    if declined and user.can_edit and trip.departure_at > now and trip.cancelled_at is None:
        result.freed_seats = _still_free(trip, [r.worker_id for r in declined])
        if result.freed_seats:
            result.offer = plan_queries.waiting_workers(trip, user)
    return result


def _still_free(trip: Trip, worker_ids: list[int | None]) -> list[int]:
    """The seats the decliners gave up ("T5/12" in their TripChange) that nobody took since."""
    given_up = db.session.scalars(
        select(TripChange.old_value).where(
            TripChange.trip_id == trip.id,
            TripChange.worker_id.in_([w for w in worker_ids if w is not None]),
            TripChange.field == "cancelled",
        )
    )
    numbers = {int(v.rsplit("/", 1)[1]) for v in given_up if v and v.rsplit("/", 1)[-1].isdigit()}
    return sorted(n for n in numbers if seats.seat_at(trip, n) is None)


@dataclass(frozen=True)
class ReplyRow:
    reply: InboundReply
    trip: Trip | None
    why: str  # why a person must read it, in the reader's language


def unrecognised(user: User, handled: bool = False) -> list[ReplyRow]:
    """Replies for a person to read, newest first: a county coordinator's are those of their
    counties' workers; replies from unknown numbers only city-wide users see."""
    query = (
        select(InboundReply, Trip)
        .outerjoin(Worker, Worker.id == InboundReply.worker_id)
        .outerjoin(Trip, Trip.id == InboundReply.trip_id)
        .where(
            InboundReply.outcome == m.REPLY_UNRECOGNISED,
            InboundReply.handled_at.is_not(None) if handled else InboundReply.handled_at.is_(None),
        )
        .options(contains_eager(InboundReply.worker))  # the joined row, not a query per reply
    )
    counties = user.county_ids()
    if counties is not None:
        query = scope.in_scope(
            query.where(InboundReply.worker_id.is_not(None)), Worker.county_id, counties
        )
    query = query.order_by(InboundReply.received_at.desc(), InboundReply.id.desc()).limit(
        LIST_LIMIT
    )
    return [ReplyRow(reply, trip, _why(reply)) for reply, trip in db.session.execute(query)]


def _why(reply: InboundReply) -> str:
    if reply.worker is None:
        return _("The number belongs to no registered worker.")
    said = classify(reply.body)
    if (
        said == m.REPLY_DECLINED
        and len(answerable_seats(workers_on(reply.from_phone), reply.received_at)) > 1
    ):
        return _("Several workers share this number: find out which of them is not coming.")
    if said in (m.REPLY_CONFIRMED, m.REPLY_DECLINED):
        return _(
            "A 1 or 2 with no bus awaiting the answer (the bus has left, the seat was given up, "
            "or no departure notice went out)."
        )
    return _("Not 1 or 2: read it and phone the worker if needed.")


def declined_replies(trip_ids: list[int], counties: set[str] | None) -> list[ReplyRow]:
    """The "2"s that freed seats of these buses, of the given counties' workers, oldest first."""
    query = (
        select(InboundReply, Trip)
        .join(Worker, Worker.id == InboundReply.worker_id)
        .join(Trip, Trip.id == InboundReply.trip_id)
        .where(InboundReply.trip_id.in_(trip_ids), InboundReply.outcome == m.REPLY_DECLINED)
        .options(contains_eager(InboundReply.worker))
        .order_by(InboundReply.received_at, InboundReply.id)
    )
    rows = db.session.execute(scope.in_scope(query, Worker.county_id, counties))
    return [ReplyRow(reply, trip, "") for reply, trip in rows]


def visible_reply(user: User, reply_id: int) -> InboundReply | None:
    """The reply if the user may see it (the same scope as the list), else None."""
    reply = db.session.get(InboundReply, reply_id)
    if reply is None or user.county_ids() is None:
        return reply
    return reply if reply.worker is not None and scope.may_see(user, reply.worker) else None


def mark_handled(reply: InboundReply, user: User, now: datetime) -> str:
    """Mark a reply dealt with (audited); the message confirming it."""
    if not user.can_edit:
        raise scope.OutOfScope(_("Your account may only read."))
    if reply.handled_at is None:
        reply.handled_at, reply.handled_by_id = now, user.id
        audit.record(user, "reply.handled", "worker", reply.worker_id or "", {"reply": reply.id})
        db.session.flush()
    return _("Marked as handled.")


def phone_shown(user: User, reply: InboundReply) -> str:
    """The sender's number: in full for those who may phone back, masked for viewers."""
    return reply.from_phone if user.can_edit else mask_phone(reply.from_phone)
