"""QR boarding through the driver's link: each e-ticket judged once, replays answered the same."""

from __future__ import annotations

import uuid
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import BoardingScan, SeatAssignment, Trip, Worker
from dispatch.services import etickets
from dispatch.services.workers import withdraw_worker
from tests.support.gate import boarded_count, scan_bus, ticket
from tests.support.published import check_in_time


def _scan(client, token: str, text: str, uid: str | None = None, at: int | None = None):
    body = {"scan_uid": uid or str(uuid.uuid4()), "text": text}
    if at is not None:
        body["scanned_at"] = at
    return client.post(f"/m/{token}/scans", json=body)


def test_a_scan_boards_its_passenger_and_a_second_scan_is_flagged_not_counted(published_app):
    s = scan_bus(published_app)
    client = published_app.test_client()
    with time_machine.travel(check_in_time(published_app, s["trip_id"]), tick=False):
        first = _scan(client, s["token"], s["ticket"])
        assert first.status_code == 200, first.text
        body = first.json
        assert body["outcome"] == "boarded" and body["counted"] is True
        assert body["worker_id"] == s["worker"] and body["counts"]["boarded"] == 1
        assert s["name"] in body["message"]
        again = _scan(client, s["token"], s["ticket"]).json
        assert again["outcome"] == "duplicate" and again["counted"] is False
        assert "已登车，请勿重复扫码" in again["message"]
        assert again["counts"]["boarded"] == 1
    assert boarded_count(published_app, s["trip_id"]) == 1
    with published_app.app_context():
        worker = db.session.get(Worker, s["worker"])
        assert worker.status == "boarded"
        outcomes = db.session.scalars(select(BoardingScan.outcome).order_by(BoardingScan.id)).all()
        assert outcomes == ["boarded", "duplicate"]


def test_a_ticket_for_another_bus_names_the_right_bus_and_is_not_counted(published_app):
    s = scan_bus(published_app)
    client = published_app.test_client()
    with time_machine.travel(check_in_time(published_app, s["trip_id"]), tick=False):
        body = _scan(client, s["token"], s["other_ticket"]).json
    assert body["outcome"] == "wrong_bus" and body["counted"] is False
    assert f"不是本车乘客：应乘{s['other_code']}" in body["message"]
    assert body["worker_id"] is None  # another bus's passenger: no name on this driver's page
    assert boarded_count(published_app, s["trip_id"]) == 0


def test_a_withdrawn_passengers_ticket_says_the_seat_is_cancelled(published_app):
    s = scan_bus(published_app)
    with published_app.app_context():
        withdraw_worker(db.session.get(Worker, s["second"]), None)
        db.session.commit()
    client = published_app.test_client()
    with time_machine.travel(check_in_time(published_app, s["trip_id"]), tick=False):
        body = _scan(client, s["token"], s["second_ticket"]).json
    assert body["outcome"] == "cancelled" and "该座位已取消" in body["message"]
    assert boarded_count(published_app, s["trip_id"]) == 0


def test_a_forged_or_foreign_code_is_refused_loudly(published_app):
    s = scan_bus(published_app)
    client = published_app.test_client()
    forged = etickets.ticket_text(s["worker"], s["trip_id"], 1, "another-key")
    with time_machine.travel(check_in_time(published_app, s["trip_id"]), tick=False):
        for text in (forged, "https://example.com/", s["ticket"][:-3] + "abc"):
            body = _scan(client, s["token"], text).json
            assert body["outcome"] == "invalid" and body["counted"] is False
        assert _scan(client, s["token"], "x", uid="short").status_code == 400
        assert client.post(f"/m/{s['token']}/scans", data="nope").status_code == 400
    assert boarded_count(published_app, s["trip_id"]) == 0


def test_a_replayed_scan_uid_gets_the_first_answer_and_counts_once(published_app):
    s = scan_bus(published_app)
    client = published_app.test_client()
    uid = str(uuid.uuid4())
    moment = check_in_time(published_app, s["trip_id"])
    with time_machine.travel(moment, tick=False):
        phone_time = int((moment - timedelta(minutes=7)).timestamp() * 1000)  # queued offline
        first = _scan(client, s["token"], s["ticket"], uid=uid, at=phone_time).json
        replay = _scan(client, s["token"], s["ticket"], uid=uid, at=phone_time).json
    assert first["outcome"] == replay["outcome"] == "boarded"
    assert replay["replay"] is True and first["replay"] is False
    with published_app.app_context():
        rows = db.session.scalars(select(BoardingScan)).all()
        assert len(rows) == 1 and rows[0].scanned_at == moment - timedelta(minutes=7)
    assert boarded_count(published_app, s["trip_id"]) == 1


def test_scans_need_the_trips_valid_token_and_an_open_check_in(published_app):
    s = scan_bus(published_app)
    client = published_app.test_client()
    with time_machine.travel(check_in_time(published_app, s["trip_id"]), tick=False):
        assert _scan(client, s["token"][:-2] + "xx", s["ticket"]).status_code == 404
    early = check_in_time(published_app, s["trip_id"]) - timedelta(days=2)
    with time_machine.travel(early, tick=False):
        refused = _scan(client, s["token"], s["ticket"])
        assert refused.status_code == 409 and "前一天" in refused.json["message"]
    assert boarded_count(published_app, s["trip_id"]) == 0
    with published_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BoardingScan)) == 0


def test_scans_are_rate_limited_per_driver_link(published_app):
    published_app.config["DRIVER_SCAN_LIMIT"] = "3 per minute"
    s = scan_bus(published_app)
    client = published_app.test_client()
    with time_machine.travel(check_in_time(published_app, s["trip_id"]), tick=False):
        answers = [_scan(client, s["token"], s["other_ticket"]).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_an_old_ticket_of_a_worker_moved_onto_this_bus_still_boards_them(published_app):
    s = scan_bus(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, s["trip_id"])
        moved = db.session.scalars(
            select(SeatAssignment).where(SeatAssignment.trip_id != trip.id).limit(1)
        ).one()
        old_ticket = ticket(published_app, moved)  # the screenshot taken before the move
        taken = {x.seat_no for x in trip.seats}
        moved.trip_id, moved.seat_no = trip.id, min(set(range(1, 60)) - taken)
        worker_id, seat_no = moved.worker_id, moved.seat_no
        db.session.commit()
    client = published_app.test_client()
    with time_machine.travel(check_in_time(published_app, s["trip_id"]), tick=False):
        body = _scan(client, s["token"], old_ticket).json
    assert body["outcome"] == "boarded" and body["worker_id"] == worker_id
    assert f"{seat_no}号座" in body["message"]  # the seat they sit in now
