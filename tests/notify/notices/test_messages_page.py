"""The messages page and GET /api/v1/messages: what a coordinator sees of the outbox."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan, SeatAssignment, User, Worker
from dispatch.models import messages as m
from dispatch.services.accounts import create_token
from dispatch.services.message_reports import DeliveryRate
from dispatch.services.notices import notices
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD, login
from tests.support.coaches import assign_coaches
from tests.support.field import drivers_told

NOW = datetime(2026, 2, 26, 2, 0, tzinfo=UTC)


def _prepare(app) -> dict:
    """Schedule the plan's notices, send the departures, and give a few rows trouble."""
    with app.app_context():
        plan = db.session.get(Plan, app.config["TEST_PLAN_ID"])
        assign_coaches(plan, before_notices=True)
        notices.schedule_for_published_plan(plan, NOW, app.config)
        db.session.commit()
    app.test_cli_runner().invoke(args=["notify", "tick", "--now", NOW.isoformat()])
    with app.app_context():
        sent = db.session.scalars(
            select(OutboundMessage).filter_by(status=m.MSG_SENT).order_by(OutboundMessage.id)
        ).all()
        sent[0].status, sent[0].error_message = m.MSG_UNKNOWN, "no answer from Twilio"
        sent[1].status, sent[1].error_code = m.MSG_FAILED, "30003"
        sent[2].status = m.MSG_DELIVERED
        opted = db.session.get(Worker, sent[3].worker_id)
        opted.opted_out_at, opted.opt_out_source = NOW, "hotline"
        facts = {
            "unknown": sent[0].worker.name,
            "failed": sent[1].worker.name,
            "opted": opted.name,
            "trip": sent[0].trip_id,
            "total": db.session.query(OutboundMessage).count(),
            "by_status": Counter(db.session.scalars(select(OutboundMessage.status))),
        }
        db.session.commit()
    return facts


def _table(html: str, table_id: str) -> str:
    match = re.search(rf'<table class="grid" id="{table_id}">(.*?)</table>', html, re.S)
    assert match, f"no table {table_id}"
    return match.group(1)


def _statuses(html: str) -> Counter:
    return Counter(re.findall(r'data-status="(\w+)"', _table(html, "messages")))


def test_the_page_lists_messages_newest_first_with_filters_and_attention(published_app):
    facts = _prepare(published_app)
    client = published_app.test_client()
    login(client)
    response = client.get("/messages/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"({facts['total']})" in html
    assert len(re.findall(r"data-message=", html)) == 100  # one page of 100
    ids = [int(i) for i in re.findall(r'data-message="(\d+)"', html)]
    assert ids == sorted(ids, reverse=True)
    attention = html[html.index('id="attention"') : html.index('id="messages"')]
    assert facts["unknown"] in attention and facts["failed"] in attention
    assert facts["opted"] in _table(html, "attention-workers")
    assert "+86" not in html and "****" in html  # phones masked
    assert 'id="rates-trip"' in html and 'id="rates-county"' in html

    pending = client.get("/messages/?status=pending").get_data(as_text=True)
    assert set(_statuses(pending)) == {"pending"}
    assert f"({facts['by_status']['pending']})" in pending
    page_two = client.get("/messages/?status=pending&page=2").get_data(as_text=True)
    assert set(re.findall(r'data-message="(\d+)"', page_two)).isdisjoint(
        re.findall(r'data-message="(\d+)"', pending)
    )
    reminders = client.get("/messages/?kind=reminder").get_data(as_text=True)
    assert "明日出发提醒" not in reminders  # bodies are not shown, kinds are
    assert _statuses(reminders) == Counter({"pending": len(re.findall("data-message=", reminders))})
    with published_app.app_context():
        on_trip = db.session.query(OutboundMessage).filter_by(trip_id=facts["trip"]).count()
    by_trip = client.get(f"/messages/?trip={facts['trip']}").get_data(as_text=True)
    assert f"({on_trip})" in by_trip


def test_a_coordinator_sees_only_their_counties(published_app):
    drivers_told(published_app)  # Hongtong's busiest bus has drivers, and they were told
    facts = _prepare(published_app)
    with published_app.app_context():
        hong = (
            db.session.query(OutboundMessage)
            .join(Worker, Worker.id == OutboundMessage.worker_id)
            .filter(Worker.county_id == "hongtong")
            .count()
        )
        drivers = _driver_notices_of_buses_carrying(published_app, "hongtong")
    assert 0 < hong < facts["total"] and drivers > 0
    client = published_app.test_client()
    login(client, "hong", COORD_PASSWORD)
    html = client.get("/messages/").get_data(as_text=True)
    assert f"({hong + drivers})" in html  # and the drivers' notices of the buses they ride
    driver_kind = client.get("/messages/?kind=driver").get_data(as_text=True)
    assert f"({drivers})" in driver_kind
    # a county filter is the recipients' county: drivers have none
    assert f"({hong})" in client.get("/messages/?county=hongtong").get_data(as_text=True)
    assert "(0)" in client.get("/messages/?county=xixian").get_data(as_text=True)  # not theirs
    rates = _table(html, "rates-county")
    assert rates.count("<tr>") == 2  # the header and Hongtong alone


def _trips_carrying(app, county: str) -> set[int]:
    return set(
        db.session.scalars(
            select(SeatAssignment.trip_id)
            .join(Worker, Worker.id == SeatAssignment.worker_id)
            .where(Worker.county_id == county)
        )
    )


def _driver_notices_of_buses_carrying(app, county: str) -> int:
    """Drivers' notices of the buses with a passenger of ``county`` (in an app context)."""
    return db.session.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(
            OutboundMessage.worker_id.is_(None),
            OutboundMessage.driver_id.is_not(None),
            OutboundMessage.trip_id.in_(_trips_carrying(app, county)),
        )
    )


def test_the_page_needs_a_login(published_app):
    response = published_app.test_client().get("/messages/")
    assert response.status_code == 302 and "/login" in response.location


def test_delivery_rate_counts_only_what_reached_the_provider():
    rate = DeliveryRate("T1", "T1", Counter(delivered=3, sent=1, failed=1, pending=7, suppressed=2))
    assert rate.rate == 3 / 5 and rate.total == 14
    assert DeliveryRate("T2", "T2", Counter(pending=4)).rate is None


def test_the_api_lists_messages_by_status_scoped_by_county(published_app):
    drivers_told(published_app)
    facts = _prepare(published_app)
    with published_app.app_context():
        admin = db.session.scalar(select(User).filter_by(username="admin"))
        hong = db.session.scalar(select(User).filter_by(username="hong"))
        admin_auth = {"Authorization": f"Bearer {create_token(admin)}"}
        hong_auth = {"Authorization": f"Bearer {create_token(hong)}"}
        hong_ids = set(db.session.scalars(select(Worker.id).filter_by(county_id="hongtong")))
        db.session.commit()
    client = published_app.test_client()
    assert client.get("/api/v1/messages").status_code == 401
    body = client.get("/api/v1/messages?status=pending&per_page=20", headers=admin_auth).get_json()
    assert body["total"] == facts["by_status"]["pending"] and body["per_page"] == 20
    assert len(body["items"]) == 20 and {i["status"] for i in body["items"]} == {"pending"}
    assert {"kind", "due_at", "segments", "provider_sid", "error_code"} <= set(body["items"][0])
    unknown = client.get("/api/v1/messages?status=unknown", headers=admin_auth).get_json()
    assert unknown["total"] == 1 and unknown["items"][0]["error_message"]
    mine = client.get("/api/v1/messages?per_page=200", headers=hong_auth).get_json()
    assert mine["total"] > 0 and {i["worker_id"] for i in mine["items"]} <= hong_ids | {None}
    with published_app.app_context():  # the rest are the drivers' notices of their buses
        carrying = _trips_carrying(published_app, "hongtong")
    drivers = [i for i in mine["items"] if i["worker_id"] is None]
    assert drivers and all(i["kind"] == "driver" and i["trip_id"] in carrying for i in drivers)
    bad = client.get("/api/v1/messages?status=lost", headers=admin_auth)
    assert bad.status_code == 400 and bad.get_json()["error"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/messages" in spec["paths"] and "Message" in spec["components"]["schemas"]


def test_the_api_shows_the_text_its_cost_and_reasons_in_the_callers_language(published_app):
    facts = _prepare(published_app)
    with published_app.app_context():  # the opted-out worker's reminder falls due: refused
        due = db.session.scalar(
            select(OutboundMessage.due_at)
            .join(Worker, Worker.id == OutboundMessage.worker_id)
            .where(Worker.name == facts["opted"], OutboundMessage.kind == "reminder")
        )
    tick = ["notify", "tick", "--now", due.isoformat()]
    assert published_app.test_cli_runner().invoke(args=tick).exit_code == 0
    with published_app.app_context():
        admin = db.session.scalar(select(User).filter_by(username="admin"))
        auth = {"Authorization": f"Bearer {create_token(admin)}"}
        db.session.commit()
    client = published_app.test_client()
    sent = client.get("/api/v1/messages?status=sent&kind=departure", headers=auth).get_json()
    item = sent["items"][0]
    with published_app.app_context():
        row = db.session.get(OutboundMessage, item["id"])
        assert item["body"] == row.body and item["body"].startswith("【临汾人社】")
        assert item["params"] == row.params and item["params"]["plate"] in item["body"]
    assert item["segments"] == 1 and item["cost"] == 0.05 and item["reason"] is None
    zh = client.get(
        "/api/v1/messages?status=suppressed", headers={**auth, "Accept-Language": "zh-CN"}
    ).get_json()
    refused = zh["items"][0]
    assert refused["reason"] == "refused:opt_out"
    assert refused["error_message"] == "本人已退订短信，请电话联系"
    en = client.get(
        "/api/v1/messages?status=suppressed", headers={**auth, "Accept-Language": "en"}
    ).get_json()
    assert en["items"][0]["error_message"].startswith("The worker unsubscribed")


def test_the_page_shows_each_text_as_the_phone_shows_it(published_app):
    _prepare(published_app)
    client = published_app.test_client()
    login(client)
    html = client.get("/messages/?kind=departure&status=sent").get_data(as_text=True)
    with published_app.app_context():
        row = db.session.scalars(
            select(OutboundMessage)
            .filter_by(kind="departure", status=m.MSG_SENT)
            .order_by(OutboundMessage.id.desc())
        ).first()
        body = row.body
    assert f'<div class="sms-body" data-body>{body}</div>' in html
    assert "计费 1 条" in html and "费用 ¥0.05" in html
    assert "worker opted out" not in html and "gave no consent" not in html


def test_buses_are_listed_by_their_number(published_app):
    _prepare(published_app)
    from dispatch.services import message_reports as reports

    with published_app.app_context():
        rates = reports.rates_by_trip(None, reports.MessageFilter())
        trips = reports._trips({r.key for r in rates if r.key})
        order = [(trips[r.key].date, trips[r.key].number) for r in rates if r.key]
        choices = [(t.date, t.number) for t in reports.trip_choices(None)]
    assert len(order) > 9 and order == sorted(order) and choices == sorted(choices)
    assert any(number >= 10 for _, number in order)  # T10 comes after T9, not after T1


def test_a_code_sent_to_a_mobile_is_not_labelled_as_a_drivers(published_app):
    """A verification code goes to whoever holds the mobile (no worker yet, no driver): the
    admin's list showed "驾驶员" beside every one."""
    with published_app.app_context():
        db.session.add(
            OutboundMessage(
                dedupe_key="test:verification:1",
                kind="verification",
                to_phone="+8613700001111",
                body="【临汾人社】验证码******，5分钟内有效。",
                due_at=datetime(2026, 2, 26, tzinfo=UTC),
            )
        )
        db.session.commit()
    client = published_app.test_client()
    login(client, "admin", ADMIN_PASSWORD)
    codes = _table(client.get("/messages/?kind=verification").get_data(as_text=True), "messages")
    assert "137****1111" in codes and "驾驶员" not in codes  # the drivers': tests/journeys
