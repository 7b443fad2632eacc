"""Reading the audit trail: events filtered by action, user and day, told in words.

Events store codes and ids (``seat.pack``, trip 27, ``{"worker": 12}``); an auditor reads
action names, bus codes and worker names, and never a full ID number or phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import mask_id_number, mask_phone
from dispatch.models import AuditEvent, Trip, User, Worker

LIMIT = 500

# A label for every action the code records (grep "audit.record(" across dispatch/).
ACTION_LABELS = {
    "user.login": _l("Signed in"),
    "worker.create": _l("Worker added"),
    "worker.update": _l("Worker changed"),
    "worker.withdraw": _l("Worker withdrawn"),
    "worker.reinstate": _l("Withdrawal taken back"),
    "worker.import": _l("Workers imported"),
    "worker.export": _l("Workers exported"),
    "plan.run": _l("Plan run"),
    "plan.publish": _l("Plan published"),
    "seat.place": _l("Seat given"),
    "seat.free": _l("Seat freed"),
    "trip.lock": _l("Seat locked"),
    "trip.unlock": _l("Seat unlocked"),
    "trip.crew": _l("Coach and crew set"),
    "trip.departure": _l("Departure time changed"),
    "trip.driver_link_rotated": _l("New driver link made"),
    "seat.boarded": _l("Boarding mark"),
    "seat.no_show": _l("No-show mark"),
    "seat.attendance": _l("Boarding mark"),
    "seat.pack": _l("Welfare pack handed out"),
    "seat.phone_revealed": _l("Passenger's phone number shown"),
    "retention.anonymise": _l("Old personal data anonymised"),
    "plan.discard": _l("Plan discarded"),
    "plan.cancel": _l("Plan cancelled"),
    "plan.restore": _l("Superseded draft made current again"),
    "user.logout": _l("Signed out"),
    "user.create": _l("Account created"),
    "user.access": _l("Account role or counties changed"),
    "user.disable": _l("Account disabled"),
    "user.enable": _l("Account enabled"),
    "user.password_reset": _l("Password reset"),
    "token.create": _l("API token issued"),
    "token.revoke": _l("API token revoked"),
    "worker.api_read": _l("Workers read through the API"),
    "reply.handled": _l("Reply to an SMS handled"),
    "stop.arrived": _l("Arrival at the gate confirmed"),
    "stop.arrival_corrected": _l("Hand-over at the gate corrected"),
    "worker.self_register": _l("Worker registered themselves (QR code)"),
    "worker.self_register_duplicate": _l("Self-registration with an ID number already on file"),
    "registration.accept": _l("Self-registration accepted"),
    "registration.decline": _l("Self-registration declined"),
    "trip.cancel": _l("Bus cancelled"),
    "plan.suggestion": _l("Saving suggestion applied"),
    "worker.date_agreed": _l("Worker agreed to another travel date"),
}
# The action label when the value says the mark was taken back.
UNDONE_LABELS = {
    "seat.pack": _l("Welfare pack hand-out undone"),
    "seat.boarded": _l("Boarding mark cleared"),
    "seat.no_show": _l("No-show mark cleared"),
}
ATTENDANCE_LABELS = {
    "no_show": _l("No-show mark"),
    "none": _l("Boarding mark cleared"),
}
KEY_LABELS = {
    "worker": _l("Worker"),
    "seat": _l("Seat"),
    "value": _l("Mark"),
    "by": _l("By"),
    "name": _l("Name"),
    "fields": _l("Changed"),
    "coach": _l("Plate"),
    "captain": _l("Bus captain"),
    "departure": _l("Departs"),
    "from": _l("From"),
    "to": _l("To"),
    "seats": _l("Seats given"),
    "written": _l("Imported"),
    "count": _l("Workers exported"),
    "full": _l("Full numbers"),
    "filters": _l("Filters"),
    "days": _l("Kept for (days)"),
    "workers": _l("Workers anonymised"),
    "messages": _l("SMS texts cleared"),
    "audit_events": _l("Audit entries scrubbed"),
    "import_previews": _l("Import previews deleted"),
    "bus": _l("Bus"),
    "phone": _l("Phone"),
    "id_number": _l("ID number"),
    "before": _l("Before"),
    "after": _l("After"),
    "role": _l("Role"),
    "counties": _l("Counties"),
    "tokens_revoked": _l("API tokens revoked"),
    "user": _l("Account"),
    "username": _l("Account"),
    "label": _l("Purpose"),
    "stop": _l("Drop-off stop"),
    "handed_over": _l("Handed over"),
}
FIELD_LABELS = {
    "name": _l("Name"),
    "id_number": _l("ID number"),
    "phone": _l("Phone"),
    "county_id": _l("County"),
    "township": _l("Township"),
    "pickup_site_id": _l("Pickup point"),
    "destination_site_id": _l("Destination"),
    "employer_id": _l("Employer"),
    "earliest_date": _l("Earliest date"),
    "latest_date": _l("Latest date"),
    "group_code": _l("Group"),
    "sms_consent": _l("SMS notices"),
    "notes": _l("Notes"),
}
VALUE_LABELS = {
    "boarded": _l("Boarded"),
    "no_show": _l("No-show"),
    "none": _l("cleared"),
    "driver": _l("driver"),
    "scan": _l("driver, by scanning the e-ticket"),
    "worker": _l("the worker (self-service)"),
    "sms": _l("the worker, by answering 2 to the SMS"),
    "coordinator": _l("coordinator"),
    "admin": _l("administrator"),
    "viewer": _l("viewer (read only)"),
}
SECRET_KEYS = ("phone", "id_number")


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    user_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None


@dataclass
class AuditLine:
    """One event as the page shows it."""

    event: AuditEvent
    action: str
    target: str
    target_url: tuple[str, dict[str, Any]] | None  # (endpoint, arguments) or None
    details: list[tuple[str, str]] = field(default_factory=list)


def search(f: AuditFilter, tz: str, limit: int = LIMIT) -> list[AuditEvent]:
    """The newest events matching ``f`` (days are local days, both ends included)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if f.action:  # with the actions that read the same (seat.boarded and seat.attendance)
        same = [a for a in ACTION_LABELS if ACTION_LABELS[a] == ACTION_LABELS.get(f.action)]
        query = query.where(AuditEvent.action.in_({f.action, *same}))
    if f.user_id:
        query = query.where(AuditEvent.user_id == f.user_id)
    zone = ZoneInfo(tz)
    if f.day_from:
        query = query.where(AuditEvent.at >= datetime.combine(f.day_from, time(0), tzinfo=zone))
    if f.day_to:
        end = datetime.combine(f.day_to + timedelta(days=1), time(0), tzinfo=zone)
        query = query.where(AuditEvent.at < end)
    return list(db.session.scalars(query))


def parse_day(text: str) -> date | None:
    """An ISO day from a filter field; None when empty or not a date."""
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def action_choices() -> list[tuple[str, str]]:
    """(action, label) for the filter: every known action and any other one recorded."""
    recorded = set(db.session.scalars(select(AuditEvent.action).distinct()))
    by_label: dict[str, str] = {}
    for action in sorted(set(ACTION_LABELS) | recorded):
        by_label.setdefault(action_label(action), action)  # one choice per name
    return sorted(((a, label) for label, a in by_label.items()), key=lambda pair: pair[1])


def user_choices() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


def action_label(action: str, detail: dict[str, Any] | None = None) -> str:
    """The action in words; a mark set to false or "none" reads as taken back."""
    value = (detail or {}).get("value", True)
    if action == "seat.attendance" and value in ATTENDANCE_LABELS:
        return str(ATTENDANCE_LABELS[value])
    if action in UNDONE_LABELS and value in (False, "none"):
        return str(UNDONE_LABELS[action])
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def describe(events: Sequence[AuditEvent], tz: str) -> list[AuditLine]:
    """Each event with its action, object and details in words (ids looked up in bulk)."""
    names = _Names.load(events)
    return [
        AuditLine(
            event=e,
            action=action_label(e.action, e.detail),
            target=names.target(e),
            target_url=_target_url(e),
            details=[(_key_label(k), names.value(k, v, tz)) for k, v in (e.detail or {}).items()],
        )
        for e in events
    ]


def _key_label(key: str) -> str:
    label = KEY_LABELS.get(key)
    return str(label) if label is not None else key


def _target_url(event: AuditEvent) -> tuple[str, dict[str, Any]] | None:
    if not event.object_id.isdigit():
        return None
    if event.object_type == "worker":
        return "workers.edit", {"worker_id": int(event.object_id)}
    if event.object_type == "trip":
        return "trips.show", {"trip_id": int(event.object_id)}
    return None


@dataclass
class _Names:
    trips: dict[int, Trip]
    workers: dict[int, str]
    users: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, events: Iterable[AuditEvent]) -> _Names:
        trip_ids, worker_ids = set(), set()
        for e in events:
            ids = (
                worker_ids
                if e.object_type == "worker"
                else trip_ids
                if e.object_type == "trip"
                else set()
            )
            if e.object_id.isdigit():
                ids.add(int(e.object_id))
            for key in ("worker", "captain"):
                if isinstance((e.detail or {}).get(key), int):
                    worker_ids.add(e.detail[key])
        trips = {t.id: t for t in db.session.scalars(select(Trip).where(Trip.id.in_(trip_ids)))}
        rows = db.session.execute(select(Worker.id, Worker.name).where(Worker.id.in_(worker_ids)))
        users = db.session.execute(select(User.id, User.username))
        return cls(trips, {wid: name for wid, name in rows}, {uid: name for uid, name in users})

    def target(self, event: AuditEvent) -> str:
        kind, oid = event.object_type, event.object_id
        number = int(oid) if oid.isdigit() else None
        if kind == "trip" and number in self.trips:
            trip = self.trips[number]
            return f"{trip.code} · {trip.date.isoformat()}"
        if kind == "worker" and number in self.workers:
            return self.workers[number]
        if kind == "plan":
            return _("Plan %(id)s", id=oid)
        if kind == "user":
            return _("Account %(name)s", name=self.users.get(number, oid))
        if kind == "api_token":
            return _("API token")
        if kind == "export":
            return _("Worker list (%(format)s)", format=oid.upper())
        if kind == "file":
            return oid
        if kind == "retention":
            return _("Trips up to %(day)s", day=oid)
        return f"{kind} {oid}".strip()

    def value(self, key: str, value: Any, tz: str) -> str:
        """A detail's value in words: names for ids, masked numbers, 是/否, local times."""
        if key in ("worker", "captain") and isinstance(value, int):
            return self.workers.get(value, _("(not found)"))
        if key == "seat" and isinstance(value, int):
            return _("seat %(n)d", n=value)
        if key == "fields" and isinstance(value, list):
            return "、".join(str(FIELD_LABELS.get(f, f)) for f in value)
        return _plain(key, value, tz)


def _plain(key: str, value: Any, tz: str) -> str:
    if value is None or value == "":
        return _("not set")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "；".join(f"{_key_label(k)}: {_plain(k, v, tz)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_plain(key, v, tz) for v in value)
    text = str(value)
    if any(secret in key for secret in SECRET_KEYS):
        return mask_id_number(text) if "id_number" in key else mask_phone(text)
    if key == "departure":
        try:
            return datetime.fromisoformat(text).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return text
    label = VALUE_LABELS.get(text)
    return str(label) if label is not None else text
