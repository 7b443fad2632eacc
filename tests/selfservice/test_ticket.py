"""The worker's own ticket (/ticket) through the test client: the neutral answer, codes and
their tries, the limits, what the page shows, withdrawal, the session and its headers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import (
    AuditEvent,
    OutboundMessage,
    Plan,
    SeatAssignment,
    TripChange,
    VerificationCode,
    Worker,
    utcnow,
)
from dispatch.services import etickets, tickets
from tests.support.apps import login
from tests.support.sms import add_message
from tests.support.tickets import (
    NEXT_CODE,
    Passenger,
    add_handout,
    before_departure,
    codes_sent,
    give_coach,
    seated_worker,
    stranger_id_number,
)

NEUTRAL = "如果身份证号和手机号与报名信息一致"


@pytest.fixture
def passenger(published_app: Flask) -> Iterator[Passenger]:
    """A seated Hongtong worker, the clock on the evening before their bus."""
    found = seated_worker(published_app)
    with time_machine.travel(before_departure(found), tick=True):
        yield found


@pytest.fixture
def client(published_app: Flask):
    return published_app.test_client()


def _ask(client, id_number: str, phone: str):
    """Ask for a code, and close the answer as a server does once it has written it (the test
    client leaves that to the caller): the code's SMS goes out then."""
    response = client.post("/ticket/code", data={"id_number": id_number, "phone": phone})
    response.close()
    return response


def _open(client, app: Flask, p: Passenger):
    assert _ask(client, p.id_number, p.phone).status_code == 302
    response = client.post("/ticket/verify", data={"code": codes_sent(app, p.phone)[-1]})
    assert response.status_code == 302
    return client.get("/ticket")


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_stranger_gets_the_same_answer_as_the_worker_and_no_sms(client, published_app, passenger):
    gateway = published_app.extensions["sms_gateway"]
    asked = _ask(client, passenger.id_number, passenger.phone)
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/ticket/verify")
    worker_page = client.get("/ticket/verify").get_data(as_text=True)
    assert len(codes_sent(published_app, passenger.phone)) == 1
    sent_before = len(gateway.sent)

    other = published_app.test_client()
    with time_machine.travel(utcnow() + NEXT_CODE, tick=True):  # the number's next code may go
        stranger = _ask(other, stranger_id_number(published_app), passenger.phone)
        stranger_page = other.get("/ticket/verify").get_data(as_text=True)
    assert stranger.status_code == 302 and stranger.headers["Location"] == asked.headers["Location"]
    assert _without_tokens(stranger_page) == _without_tokens(worker_page)
    assert NEUTRAL in stranger_page
    assert len(gateway.sent) == sent_before  # no SMS for a pair that matches nobody
    with published_app.app_context():  # …but the request counted against the number's limits
        assert db.session.scalar(select(func.count()).select_from(VerificationCode)) == 2
        row = db.session.scalars(select(OutboundMessage).filter_by(kind="verification")).one()
        assert row.body.count("******") == 1  # the code itself is never stored


def test_the_answer_never_waits_for_the_gateway_and_the_code_goes_unless_the_answer_closes(
    client, published_app, passenger, monkeypatch
):
    """The answer is out while the gateway still holds the code, so its wait tells nobody; and
    the code goes even when the server never closes the answer (the development server did not
    always, under Chromium, and the code stayed "sending")."""
    gateway = published_app.extensions["sms_gateway"]
    held, real = threading.Event(), gateway.send
    monkeypatch.setattr(gateway, "send", lambda sms: held.wait(10) and real(sms))
    sent_before = len(gateway.sent)
    data = {"id_number": passenger.id_number, "phone": passenger.phone}
    answer = client.post("/ticket/code", data=data)  # the gateway is held: the answer is not
    assert answer.status_code == 302
    assert len(gateway.sent) == sent_before
    with published_app.app_context():
        row = db.session.scalars(select(OutboundMessage).filter_by(kind="verification")).one()
        assert row.status == "sending"
    held.set()  # the provider answers; the answer to the worker is never closed
    for _ in range(200):
        if len(gateway.sent) > sent_before:
            break
        threading.Event().wait(0.05)
    assert len(gateway.sent) == sent_before + 1
    assert len(codes_sent(published_app, passenger.phone)) == 1
    answer.close()  # what a server does once the answer is written: it waits for the send
    with published_app.app_context():
        row = db.session.scalars(select(OutboundMessage).filter_by(kind="verification")).one()
        assert row.status == "sent" and row.body.count("******") == 1


def test_the_right_code_opens_the_ticket_with_bus_seat_time_and_a_signed_qr(
    client, published_app, passenger
):
    plate, driver_phone = give_coach(published_app, passenger.trip_id)
    day = passenger.pickup_at.date()
    add_handout(published_app, passenger.pickup_site_id, day, "县人社局一楼大厅", time(6), time(7))
    page = _open(client, published_app, passenger)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = _text(page)
    for expected in (
        passenger.name,
        passenger.trip_code,
        f"{passenger.seat_no}号",
        passenger.pickup_at.strftime("%H:%M"),
        passenger.pickup_name,
        plate,
        driver_phone,
        "司机电话",
        "县人社局一楼大厅",
        "06:00–07:00",
        f"{day.year}年{day.month}月{day.day}日",
    ):
        assert expected in text, expected
    assert passenger.id_number not in text and passenger.id_number[-4:] in text  # masked
    svg = re.search(r"<svg[^>]*class=\"qr\".*?</svg>", page.get_data(as_text=True), re.S)
    assert svg and 'viewBox="0 0 ' in svg.group()


def test_the_ticket_without_coach_shows_plate_pending_the_hotline_and_the_hour_before(
    client, published_app, passenger
):
    text = _text(_open(client, published_app, passenger))
    assert "车辆待定" in text and "热线电话" in text and "0357-12333" in text
    hour_before = passenger.pickup_at - timedelta(hours=1)  # on the five minutes
    opens = hour_before.replace(minute=hour_before.minute - hour_before.minute % 5)
    assert f"{opens:%H:%M}–{passenger.pickup_at:%H:%M}" in text  # as the welfare SMS says


def test_the_qr_code_carries_a_valid_ticket_for_this_seat(published_app, passenger):
    with published_app.app_context():
        ticket = tickets.ticket_of(
            passenger.worker_id, before_departure(passenger), published_app.config
        )
        text = etickets.ticket_text(
            passenger.worker_id, passenger.trip_id, passenger.seat_no, published_app.secret_key
        )
    assert ticket.ride.qr_svg == tickets.qr_svg(text)
    assert etickets.read_ticket(text, published_app.secret_key) == etickets.TicketFacts(
        passenger.worker_id, passenger.trip_id, passenger.seat_no
    )


def test_wrong_codes_count_and_after_five_the_right_one_no_longer_opens(
    client, published_app, passenger
):
    _ask(client, passenger.id_number, passenger.phone)
    right = codes_sent(published_app, passenger.phone)[-1]
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        response = client.post("/ticket/verify", data={"code": wrong})
        assert response.status_code == 400 and "验证码不正确或已失效" in _text(response)
    assert client.post("/ticket/verify", data={"code": right}).status_code == 400
    assert 'id="ride"' not in client.get("/ticket").get_data(as_text=True)


def test_the_sixth_code_in_an_hour_is_refused_with_429_in_chinese(client, published_app, passenger):
    stranger = stranger_id_number(published_app)
    with time_machine.travel(utcnow(), tick=True) as clock:
        for _ in range(5):  # a stranger's tries count against the number as well
            assert _ask(client, stranger, passenger.phone).status_code == 302
            clock.shift(NEXT_CODE)  # each a minute after the one before
        refused = _ask(client, passenger.id_number, passenger.phone)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "获取验证码次数过多" in _text(refused)
    assert codes_sent(published_app, passenger.phone) == []


def test_a_second_code_within_the_minute_is_refused_with_the_seconds_to_wait(
    client, published_app, passenger
):
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert _ask(client, passenger.id_number, passenger.phone).status_code == 302
        clock.shift(15)  # the page asked again (a second tab, the back button)
        again = _ask(client, passenger.id_number, passenger.phone)
        assert again.status_code == 429 and "请 45 秒后再获取" in _text(again)
        assert len(codes_sent(published_app, passenger.phone)) == 1
        clock.shift(45)
        assert _ask(client, passenger.id_number, passenger.phone).status_code == 302
    assert len(codes_sent(published_app, passenger.phone)) == 2


def test_the_address_limit_of_flask_limiter_answers_429(client, published_app, passenger):
    published_app.config["TICKET_REQUESTS_PER_MINUTE"] = 3
    for _ in range(3):
        client.post("/ticket/code", data={"id_number": "1", "phone": "2"})
    refused = client.post("/ticket/code", data={"id_number": "1", "phone": "2"})
    assert refused.status_code == 429 and "操作太频繁" in _text(refused)


def test_a_form_without_its_csrf_token_is_refused_and_sends_nothing(published_app, passenger):
    published_app.config["WTF_CSRF_ENABLED"] = True
    response = _ask(published_app.test_client(), passenger.id_number, passenger.phone)
    assert response.status_code == 400 and "请重新填写" in _text(response)
    assert codes_sent(published_app, passenger.phone) == []


def test_withdrawal_frees_the_seat_as_a_coordinator_does_and_the_audit_names_the_worker(
    client, published_app, passenger
):
    with published_app.app_context():  # tomorrow's reminder, not sent yet
        worker = db.session.get(Worker, passenger.worker_id)
        add_message(worker, kind="reminder", trip_id=passenger.trip_id, status="pending")
        db.session.commit()
    _open(client, published_app, passenger)
    confirm = client.get("/ticket/withdraw")
    assert "是的，取消出行" in _text(confirm)
    done = client.post("/ticket/withdraw", follow_redirects=True)
    text = _text(done)
    assert (
        "座位已释放" in text
        and "已取消" in text
        and 'class="qr"' not in done.get_data(as_text=True)
    )
    with published_app.app_context():
        assert db.session.get(Worker, passenger.worker_id).status == "cancelled"
        assert (
            db.session.scalar(select(SeatAssignment).filter_by(worker_id=passenger.worker_id))
            is None
        )
        change = db.session.scalars(
            select(TripChange).filter_by(worker_id=passenger.worker_id)
        ).one()
        assert (change.field, change.old_value) == (
            "cancelled",
            f"{passenger.trip_code}/{passenger.seat_no}",
        )
        event = db.session.scalars(select(AuditEvent).filter_by(action="worker.withdraw")).one()
        assert event.user_id is None and event.detail["by"] == "worker"
        assert event.object_id == str(passenger.worker_id)
        # Announced at once, as after a coordinator's withdrawal: nothing pending is left to
        # reach the worker, who needs no SMS to learn what they did themselves.
        assert change.notified_at is not None
        pending = select(OutboundMessage).filter_by(worker_id=passenger.worker_id, status="pending")
        assert db.session.scalars(pending).all() == []


def test_no_withdrawal_once_the_bus_has_left(client, published_app, passenger):
    _open(client, published_app, passenger)
    with time_machine.travel(passenger.pickup_at + timedelta(minutes=5), tick=False):
        assert "我无法出行了" not in _text(client.get("/ticket"))
        refused = client.post("/ticket/withdraw", follow_redirects=True)
        assert "请拨打热线" in _text(refused)
    with published_app.app_context():
        assert db.session.get(Worker, passenger.worker_id).status != "cancelled"


def test_the_opened_ticket_closes_after_30_minutes_and_on_exit(client, published_app, passenger):
    assert passenger.name in _text(_open(client, published_app, passenger))
    with time_machine.travel(before_departure(passenger) + timedelta(minutes=31), tick=False):
        assert passenger.name not in _text(client.get("/ticket"))
        _open(client, published_app, passenger)  # a new code: the first is 31 minutes old
        left = client.post("/ticket/exit", follow_redirects=True)
    assert "已退出" in _text(left) and passenger.name not in _text(left)
    assert left.headers["Cache-Control"] == "no-store"


def test_only_a_published_plan_counts_and_a_pending_worker_waits_for_review(
    client, published_app, passenger
):
    with published_app.app_context():
        for plan in db.session.scalars(select(Plan).filter_by(status="published")):
            plan.status = "draft"
        db.session.commit()
    text = _text(_open(client, published_app, passenger))
    assert "待安排车辆" in text and passenger.trip_code not in text and "车辆待定" not in text
    with published_app.app_context():
        db.session.get(Worker, passenger.worker_id).status = "pending"
        db.session.commit()
    assert "待审核" in _text(client.get("/ticket"))
    with published_app.app_context():
        declined = db.session.get(Worker, passenger.worker_id)
        declined.status, declined.decline_reason = "cancelled", "用工单位名额已满"
        db.session.commit()
    text = _text(client.get("/ticket"))
    assert "报名未通过" in text and "原因：用工单位名额已满" in text and "我无法出行了" not in text


def test_a_malformed_id_or_phone_is_refused_without_counting(client, published_app, passenger):
    response = _ask(client, "123", "abc")
    assert response.status_code == 400
    assert "身份证号" in _text(response) and "手机号" in _text(response)
    with published_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VerificationCode)) == 0


@pytest.mark.parametrize(
    "value",
    ["\x00", "a\x00b", "张三\r\nSet-Cookie: x=1", "9" * 30, "x" * 10_000, "' OR '1'='1"],
)
def test_hostile_input_is_refused_politely_and_stores_nothing(client, published_app, value):
    for path, data in (
        ("/ticket/code", {"id_number": value, "phone": value}),
        ("/ticket/verify", {"code": value}),
    ):
        response = client.post(path, data=data)
        assert response.status_code in (302, 400), (path, response.status_code)
        assert "Set-Cookie: x" not in response.headers.get("Set-Cookie", "")
    with published_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VerificationCode)) == 0


def test_the_ticket_reads_in_english_when_chosen(client, published_app, passenger):
    client.post("/language", data={"lang": "en", "next": "/ticket"})
    text = _text(_open(client, published_app, passenger))
    for expected in (
        "My bus ticket",
        "Seat booked",
        "Pickup time",
        "Coach not yet assigned",
        "Hotline",
    ):
        assert expected in text, expected
    assert "车辆待定" not in text and "上车时间" not in text


def test_the_audit_log_names_the_workers_self_service(client, published_app, passenger):
    _open(client, published_app, passenger)
    client.post("/ticket/withdraw")
    admin = published_app.test_client()
    login(admin)
    row = re.search(
        r'<tr data-action="worker.withdraw">.*?</tr>',
        admin.get("/workers/audit").get_data(as_text=True),
        re.S,
    )
    assert row and "务工人员本人（自助）" in row.group() and passenger.name in row.group()
