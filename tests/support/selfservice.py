"""Self-registration (/join) for the tests: a worker's form as they fill it, the code from the
SMS the console gateway sent (never from the page), and the outbox's notices."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import make_id_number
from dispatch.models import AuditEvent, OutboundMessage, Worker
from tests.support.tickets import codes_sent
from tests.support.workers import workers_where


def join_id_number(n: int) -> str:
    """A valid ID number of a Hongtong person born 1995, distinct per n (< 999), not in the demo."""
    return make_id_number("141024", date(1995, 7, 1 + n // 999 % 28), n % 999 + 1)


def join_phone(n: int) -> str:
    return f"1370357{n:04d}"


def join_fields(n: int = 0, **changes: Any) -> dict[str, str]:
    """What a worker types on /join (Hongtong to Kunshan, leaving in ten days), consent ticked."""
    start = date.today() + timedelta(days=10)
    fields = {
        "name": f"自报{n}",
        "id_number": join_id_number(n),
        "phone": join_phone(n),
        "county": "hongtong",
        "pickup_point": "",
        "township": "甘亭镇",
        "destination": "js-kunshan",
        "employer": "",
        "employer_text": "",
        "earliest_date": start.isoformat(),
        "latest_date": (start + timedelta(days=2)).isoformat(),
        "group": "",
        "privacy_consent": "1",
        "code": "",
    }
    fields.update(changes)
    return fields


def sent_code(app, n: int) -> str:
    """The 6-digit code of the newest SMS the console gateway sent to ``join_phone(n)``."""
    codes = codes_sent(app, join_phone(n))
    assert codes, f"no code sent to {join_phone(n)}"
    return codes[-1]


def e164(national: str) -> str:
    return "+86" + national


def worker_by_id_number(app, id_number: str) -> Worker | None:
    found = workers_where(app, id_number=id_number)
    return found[0] if found else None


def notices(app, kind: str, phone_e164: str | None = None) -> list[OutboundMessage]:
    with app.app_context():
        query = select(OutboundMessage).where(OutboundMessage.kind == kind)
        if phone_e164:
            query = query.where(OutboundMessage.to_phone == phone_e164)
        rows = list(db.session.scalars(query.order_by(OutboundMessage.id)))
        db.session.expunge_all()
        return rows


def audit_of(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
        return rows
