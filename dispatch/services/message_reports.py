"""What the outbox says, for people: filtered lists, delivery rates, rows that need a person.

Every query is scoped: a coordinator sees only messages to workers of their counties (and
no driver messages); ``scope`` None means everything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from dispatch.extensions import db
from dispatch.models import County, OutboundMessage, SeatAssignment, Trip, Worker
from dispatch.models import messages as m
from dispatch.models.workers import CANCELLED
from dispatch.notify import suppression as refusals
from dispatch.services.scope import in_scope, scope_clause

OM = OutboundMessage
STATUSES = (
    m.MSG_PENDING,
    m.MSG_SENDING,
    m.MSG_SENT,
    m.MSG_DELIVERED,
    m.MSG_FAILED,
    m.MSG_UNKNOWN,
    m.MSG_CANCELLED,
    m.MSG_EXPIRED,
    m.MSG_SUPPRESSED,
)
# Rows that reached the provider; "undelivered" is Twilio's word, stored as failed, counted
# should a backend ever store it.
ATTEMPTED = (m.MSG_SENT, m.MSG_DELIVERED, m.MSG_FAILED, "undelivered")
PER_PAGE = 100
ATTENTION_LIMIT = 200

# Rows written before reasons had codes (or by writers that keep only the English text):
# their text's opening words name the reason.
LEGACY_REASONS = (
    ("worker gave no consent", refusals.NO_CONSENT),
    ("worker opted out", refusals.OPTED_OUT),
    ("number marked invalid", refusals.NUMBER_INVALID),
    ("number changed since", refusals.NUMBER_CHANGED),
    ("provider refused the number", refusals.PROVIDER_REFUSED),
    ("claimed but never finished", "stale"),
    ("gateway error", "gateway"),
    ("manifest link rotated", "link_rotated"),
    ("moved to another bus", "moved"),
    ("superseded by version", "superseded"),
    ("same text already sent twice", "carrier:repeat"),
    ("4 distinct sms already sent today", "carrier:daily"),
    ("held to the next day", "carrier:daily"),
)


@dataclass(frozen=True)
class MessageFilter:
    status: str = ""
    kind: str = ""
    trip_id: int | None = None
    county: str = ""


@dataclass
class DeliveryRate:
    """Counts by status for one trip or county; rate = delivered / attempted."""

    key: Any
    label: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float | None:
        attempted = sum(self.counts[s] for s in ATTEMPTED)
        return self.counts[m.MSG_DELIVERED] / attempted if attempted else None


@dataclass
class MessagesPage:
    items: list[OutboundMessage]
    total: int
    page: int
    pages: int
    trips: dict[int, Trip]
    by_trip: list[DeliveryRate]
    by_county: list[DeliveryRate]
    attention: list[OutboundMessage]
    unreachable: list[Worker]


def visible_messages(scope: set[str] | None) -> Select:
    """Every message the user may see, newest first: their counties' workers', and the
    drivers' notices of the buses that carry any of those workers (a coordinator checks that
    the driver of their bus was told; they were seen by administrators only)."""
    query = select(OM).outerjoin(Worker, Worker.id == OM.worker_id)
    if scope is None:
        return query.order_by(OM.id.desc())
    rider = aliased(Worker)
    carrying = in_scope(
        select(SeatAssignment.trip_id).join(rider, rider.id == SeatAssignment.worker_id),
        rider.county_id,
        scope,
    )
    drivers = and_(OM.worker_id.is_(None), OM.driver_id.is_not(None), OM.trip_id.in_(carrying))
    return query.where(or_(scope_clause(Worker.county_id, scope), drivers)).order_by(OM.id.desc())


def filtered_messages(scope: set[str] | None, f: MessageFilter) -> Select:
    """The visible messages narrowed by status, kind, trip and county."""
    query = _narrowed(visible_messages(scope), f)
    return query.where(OM.status == f.status) if f.status else query


def _narrowed(query: Select, f: MessageFilter) -> Select:
    if f.kind:
        query = query.where(OM.kind == f.kind)
    if f.trip_id:
        query = query.where(OM.trip_id == f.trip_id)
    if f.county:
        query = query.where(Worker.county_id == f.county)
    return query


def page_of(
    query: Select, page: int, per_page: int = PER_PAGE
) -> tuple[list[OutboundMessage], int]:
    """One page of ``query`` (workers loaded with it) and the total count."""
    total = (
        db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    page = min(max(page, 1), total // per_page + 1)
    rows = db.session.scalars(
        query.options(joinedload(OM.worker)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def messages_page(
    scope: set[str] | None, f: MessageFilter, page: int, locale: str = "zh"
) -> MessagesPage:
    """Everything the messages page shows."""
    items, total = page_of(filtered_messages(scope, f), page)
    pages = max(1, -(-total // PER_PAGE))
    trip_ids = {row.trip_id for row in items if row.trip_id}
    return MessagesPage(
        items=items,
        total=total,
        page=min(max(page, 1), pages),
        pages=pages,
        trips=_trips(trip_ids),
        by_trip=rates_by_trip(scope, f),
        by_county=rates_by_county(scope, f, locale),
        attention=needs_attention(scope),
        unreachable=unreachable_workers(scope),
    )


def rates_by_trip(scope: set[str] | None, f: MessageFilter) -> list[DeliveryRate]:
    """Counts by status per trip, by date and bus number (T5 before T10); the status filter
    is ignored: a rate needs every status."""
    rows = _status_counts(OM.trip_id, scope, f)
    trips = _trips({key for key, _, _ in rows if key is not None})
    rates = _rates(rows, lambda key: _trip_label(trips.get(key)) if key else "—")
    return sorted(rates, key=lambda r: _trip_order(trips.get(r.key)))


def _trip_order(trip: Trip | None) -> tuple:
    if trip is None:
        return (1, None, 0, 0)
    return (0, trip.date, trip.number or 0, trip.id)


def rates_by_county(
    scope: set[str] | None, f: MessageFilter, locale: str = "zh"
) -> list[DeliveryRate]:
    """Counts by status per county of the recipients (drivers' messages have none)."""
    rows = [row for row in _status_counts(Worker.county_id, scope, f) if row[0] is not None]
    names = {c.id: c.display_name(locale) for c in db.session.scalars(select(County))}
    return _rates(rows, lambda key: names.get(key, key))


def needs_attention(scope: set[str] | None) -> list[OutboundMessage]:
    """Rows a person must look at: outcome unknown (maybe sent) or failed."""
    query = visible_messages(scope).where(OM.status.in_((m.MSG_UNKNOWN, m.MSG_FAILED)))
    return list(db.session.scalars(query.options(joinedload(OM.worker)).limit(ATTENTION_LIMIT)))


def unreachable_workers(scope: set[str] | None) -> list[Worker]:
    """Workers SMS cannot reach (no consent, opted out, number invalid) who have notices."""
    query = (
        select(Worker)
        .where(
            or_(
                Worker.sms_consent.is_(False),
                Worker.opted_out_at.is_not(None),
                Worker.phone_invalid_at.is_not(None),
            ),
            Worker.status != CANCELLED,
            Worker.id.in_(select(OM.worker_id).where(OM.worker_id.is_not(None))),
        )
        .order_by(Worker.id)
        .limit(ATTENTION_LIMIT)
    )
    return list(db.session.scalars(in_scope(query, Worker.county_id, scope)))


def trip_choices(scope: set[str] | None) -> list[Trip]:
    """Trips that have visible messages, for the trip filter."""
    ids = (
        select(OM.trip_id)
        .outerjoin(Worker, Worker.id == OM.worker_id)
        .where(OM.trip_id.is_not(None))
    )
    ids = in_scope(ids, Worker.county_id, scope)
    return list(
        db.session.scalars(
            select(Trip).where(Trip.id.in_(ids)).order_by(Trip.date, Trip.number, Trip.id)
        )
    )


def reason_code(message: OutboundMessage) -> str | None:
    """Why a row was not sent or not delivered, as a code the page can name; None if none.

    ``carrier:daily`` on a pending row is a hold to the next day, on a suppressed one a
    refusal: the page tells them apart by the status.
    """
    code = message.error_code or ""
    if code in refusals.UNSUBSCRIBED:
        return refusals.OPTED_OUT
    if code in refusals.INVALID_NUMBER:
        return refusals.NUMBER_INVALID
    if code and not code.isdigit():
        return code
    text = (message.error_message or "").casefold()
    for opening, legacy in LEGACY_REASONS:
        if text.startswith(opening):
            return legacy
    return "provider" if code or text else None


def cost_of(message: OutboundMessage, price_per_segment: float) -> float:
    """What the message costs (or would): its segments at the configured price, in CNY."""
    return round(message.segments * price_per_segment, 2)


def worker_messages(worker_id: int, limit: int = 50) -> list[OutboundMessage]:
    """A worker's messages, newest first (the worker's page)."""
    query = select(OM).where(OM.worker_id == worker_id).order_by(OM.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def message_json(
    message: OutboundMessage, price_per_segment: float, reason_text: str
) -> dict[str, Any]:
    """A message as the API shows it (times in UTC, ISO 8601); ``reason_text`` is the reason
    in the caller's language (the stored English text stays in the logs)."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": message.id,
        "kind": message.kind,
        "version": message.version,
        "worker_id": message.worker_id,
        "driver_id": message.driver_id,
        "trip_id": message.trip_id,
        "to_phone": message.to_phone,
        "body": message.body,
        "params": message.params,
        "segments": message.segments,
        "cost": cost_of(message, price_per_segment),
        "urgent": message.urgent,
        "status": message.status,
        "attempts": message.attempts,
        "due_at": iso(message.due_at),
        "expires_at": iso(message.expires_at),
        "sent_at": iso(message.sent_at),
        "delivered_at": iso(message.delivered_at),
        "provider": message.provider,
        "provider_sid": message.provider_sid,
        "provider_status": message.provider_status,
        "error_code": message.error_code,
        "error_message": reason_text or None,
        "reason": reason_code(message),
    }


def _status_counts(column: Any, scope: set[str] | None, f: MessageFilter) -> Sequence[Any]:
    base = _narrowed(visible_messages(scope).order_by(None), f)
    query = base.with_only_columns(column, OM.status, func.count()).group_by(column, OM.status)
    return db.session.execute(query).all()


def _rates(rows: Sequence[Any], label: Any) -> list[DeliveryRate]:
    by_key: dict[Any, DeliveryRate] = {}
    for key, status, count in rows:
        by_key.setdefault(key, DeliveryRate(key, str(label(key)))).counts[status] += count
    return sorted(by_key.values(), key=lambda r: r.label)


def _trips(ids: set[int]) -> dict[int, Trip]:
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(Trip).where(Trip.id.in_(ids)))}


def _trip_label(trip: Trip | None) -> str:
    return f"{trip.date.isoformat()} {trip.code}" if trip is not None else "?"
