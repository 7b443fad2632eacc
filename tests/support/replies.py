"""Helpers for the reply tests: a passenger whose departure notice went out, and inbound SMS
posted as Twilio and Alibaba Cloud post them (a waiting worker: tests/support/seats.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from dispatch.extensions import db
from dispatch.models import Coach, OutboundMessage, SeatAssignment, Trip, Worker

AUTH_TOKEN = "reply-test-auth-token"
ALIYUN_TOKEN = "push-secret-7f3a9c"
PUBLIC = "https://dispatch.example.cn"
TWILIO_INBOUND = "/webhooks/twilio/inbound"
ALIYUN_INBOUND = "/webhooks/aliyun/inbound"
# The published demo plan's buses run 2026-02-28 … 03-03: replies come a week before.
WEEK_BEFORE = datetime(2026, 2, 21, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Passenger:
    worker_id: int
    name: str
    phone: str
    trip_id: int
    seat_no: int


def configure(app: Flask) -> None:
    """Twilio's token and public address, and the Aliyun push token, on an existing app."""
    app.config.update(
        TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=PUBLIC, ALIYUN_SMS_CALLBACK_TOKEN=ALIYUN_TOKEN
    )


def passengers(app: Flask, trip_id: int, county: str | None = None) -> list[Passenger]:
    """The bus's passengers (of ``county``), by seat, each given a departure notice that went
    out (as the tick records it: status sent)."""
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        found = []
        for seat in sorted(trip.seats, key=lambda s: s.seat_no):
            worker = seat.worker
            if county is not None and worker.county_id != county:
                continue
            notify(worker, trip)
            found.append(Passenger(worker.id, worker.name, worker.phone, trip.id, seat.seat_no))
        db.session.commit()
        return found


def notify(worker: Worker, trip: Trip, status: str = "sent", kind: str = "departure") -> None:
    """An outbox row saying the worker's notice for ``trip`` went out."""
    db.session.add(
        OutboundMessage(
            dedupe_key=f"{kind}:w{worker.id}:t{trip.id}:v1",
            kind=kind,
            worker_id=worker.id,
            trip_id=trip.id,
            to_phone=worker.phone,
            body="【临汾人社】乘车通知",
            due_at=WEEK_BEFORE,
            status=status,
            sent_at=WEEK_BEFORE if status != "pending" else None,
        )
    )
    db.session.flush()


def trip_with_county(app: Flask, county: str) -> int:
    """The bus with the most passengers of ``county``."""
    with app.app_context():
        trips = db.session.scalars(select(Trip).order_by(Trip.id)).all()
        return max(trips, key=lambda t: sum(s.worker.county_id == county for s in t.seats)).id


def give_coach(app: Flask, trip_id: int) -> str:
    """Give the bus a coach no other bus has (departure notices need a plate); its plate."""
    with app.app_context():
        busy = set(db.session.scalars(select(Trip.coach_id).where(Trip.coach_id.is_not(None))))
        coach = next(
            c for c in db.session.scalars(select(Coach).order_by(Coach.id)) if c.id not in busy
        )
        db.session.get(Trip, trip_id).coach_id = coach.id
        db.session.commit()
        return coach.plate


def seat_of(app: Flask, worker_id: int) -> SeatAssignment | None:
    with app.app_context():
        seat = db.session.scalar(
            select(SeatAssignment).where(SeatAssignment.worker_id == worker_id)
        )
        if seat is not None:
            db.session.expunge(seat)
        return seat


def post_twilio(client, phone: str, body: str, sid: str, *, token: str = AUTH_TOKEN):
    """An inbound SMS as Twilio posts it, signed over the public address."""
    params = {"From": phone, "To": "+15005550006", "Body": body, "MessageSid": sid}
    signature = RequestValidator(token).compute_signature(PUBLIC + TWILIO_INBOUND, params)
    return client.post(TWILIO_INBOUND, data=params, headers={"X-Twilio-Signature": signature})


def uplink(phone: str, body: str, sequence: int | str) -> dict:
    """One SmsUp uplink message as Alibaba Cloud pushes it (national number, Beijing time)."""
    return {
        "phone_number": phone.removeprefix("+86"),
        "send_time": "2026-02-21 10:00:05",
        "content": body,
        "sign_name": "临汾人社",
        "dest_code": "1234",
        "sequence_id": sequence,
    }


def post_aliyun(client, messages: list[dict], token: str | None = ALIYUN_TOKEN, in_path=True):
    """An SmsUp HTTP batch push: a JSON array, the token in the path (or the query)."""
    if token is None:
        path = ALIYUN_INBOUND
    else:
        path = f"{ALIYUN_INBOUND}/{token}" if in_path else f"{ALIYUN_INBOUND}?token={token}"
    return client.post(
        path, data=json.dumps(messages, ensure_ascii=False), content_type="application/json"
    )
