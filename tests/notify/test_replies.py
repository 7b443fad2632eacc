"""Workers' replies to the departure notice (issue 18 §4), through Twilio's signed inbound
webhook and Alibaba Cloud's SmsUp push: 1 confirms, 2 frees the seat for the waiting list,
anything else goes to the coordinator's list; replays change nothing; county scope holds."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import AuditEvent, InboundReply, OutboundMessage, Trip, User, Worker
from dispatch.models import messages as m
from dispatch.models.workers import CANCELLED
from dispatch.services import reply_lists
from dispatch.services.replies import classify
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD, login, make_app, seed_demo
from tests.support.published import WINDOW
from tests.support.replies import (
    WEEK_BEFORE,
    configure,
    give_coach,
    notify,
    passengers,
    post_aliyun,
    post_twilio,
    seat_of,
    trip_with_county,
    uplink,
)
from tests.support.seats import waiting_worker


@pytest.fixture
def app(published_app: Flask) -> Flask:
    configure(published_app)
    with time_machine.travel(WEEK_BEFORE, tick=True):
        yield published_app


@pytest.fixture
def bus(app: Flask) -> int:
    trip_id = trip_with_county(app, "hongtong")
    give_coach(app, trip_id)
    return trip_id


def _replies(app: Flask) -> list[InboundReply]:
    with app.app_context():
        rows = db.session.scalars(select(InboundReply).order_by(InboundReply.id)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _user(username: str) -> User:
    return db.session.scalar(select(User).filter_by(username=username))


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ("1", m.REPLY_CONFIRMED),
        ("１", m.REPLY_CONFIRMED),
        (" 1 ", m.REPLY_CONFIRMED),
        ("1。", m.REPLY_CONFIRMED),
        ("【1】", m.REPLY_CONFIRMED),
        ("2", m.REPLY_DECLINED),
        ("２！", m.REPLY_DECLINED),
        ("\n2.\n", m.REPLY_DECLINED),
        ("12", m.REPLY_UNRECOGNISED),
        ("1好的", m.REPLY_UNRECOGNISED),
        ("明天几点走？", m.REPLY_UNRECOGNISED),
        ("", m.REPLY_UNRECOGNISED),
        ("退订", m.REPLY_OPT_OUT),
        ("Ｔ", m.REPLY_OPT_OUT),
    ],
)
def test_replies_are_read_as_a_person_types_them(body, outcome):
    assert classify(body) == outcome


def test_a_1_through_twilio_confirms_the_seat(app, bus):
    first = passengers(app, bus, "hongtong")[0]
    response = post_twilio(app.test_client(), first.phone, "１", "SM" + "1" * 32)
    assert response.status_code == 200 and response.get_data(as_text=True).endswith("<Response/>")
    seat = seat_of(app, first.worker_id)
    assert seat.reply == m.REPLY_CONFIRMED and seat.replied_at is not None
    [reply] = _replies(app)
    assert (reply.outcome, reply.worker_id, reply.trip_id) == ("confirmed", first.worker_id, bus)
    assert reply.provider == "twilio" and reply.body == "１"


def test_a_forged_twilio_reply_changes_nothing(app, bus):
    first = passengers(app, bus)[0]
    assert post_twilio(app.test_client(), first.phone, "2", "SMx", token="guess").status_code == 403
    assert seat_of(app, first.worker_id) is not None and _replies(app) == []


def test_a_2_through_twilio_frees_the_seat_and_offers_it_to_the_waiting_list(app, bus):
    first, second = passengers(app, bus, "hongtong")[:2]
    waiting_id = waiting_worker(app, bus, "候补甲", 901, county="hongtong")
    with app.app_context():
        notify(
            db.session.get(Worker, first.worker_id),
            db.session.get(Trip, bus),
            "pending",
            "reminder",
        )
        db.session.commit()
    client = app.test_client()
    assert post_twilio(client, second.phone, "1", "SM-confirm").status_code == 200
    assert post_twilio(client, first.phone, "2。", "SM-decline").status_code == 200

    assert seat_of(app, first.worker_id) is None
    with app.app_context():
        worker = db.session.get(Worker, first.worker_id)
        assert worker.status == CANCELLED
        reminder = db.session.scalar(
            select(OutboundMessage).filter_by(worker_id=first.worker_id, kind="reminder")
        )
        assert reminder.status == m.MSG_CANCELLED  # nothing more is sent about that seat
        withdraw = db.session.scalar(select(AuditEvent).filter_by(action="worker.withdraw"))
        assert withdraw.user_id is None and withdraw.detail["by"] == "sms"
        trip = db.session.get(Trip, bus)
        shown = reply_lists.bus_replies(trip, _user("hong"), WEEK_BEFORE)
        assert [r.worker_id for r in shown.declined] == [first.worker_id]
        assert shown.freed_seats == [first.seat_no]
        assert waiting_id in [w.id for w in shown.offer]
        assert (shown.counts.confirmed, shown.counts.declined) == (1, 1)
        assert shown.counts.no_answer == len(trip.seats) - 1

    login(client, "hong", COORD_PASSWORD)
    page = client.get(f"/trips/{bus}").get_data(as_text=True)
    assert 'id="freed-seats"' in page and f'name="worker_id" value="{waiting_id}"' in page
    placed = client.post(
        f"/trips/{bus}/seats/place",
        data={"worker_id": waiting_id, "seat_no": first.seat_no},
    )
    assert placed.status_code == 302
    assert seat_of(app, waiting_id).seat_no == first.seat_no
    with app.app_context():
        kinds = db.session.scalars(select(OutboundMessage.kind).filter_by(worker_id=waiting_id))
        assert "departure" in set(kinds)  # the newly seated worker is told, as any new seat is


def test_the_aliyun_push_confirms_declines_and_answers_as_the_provider_expects(app, bus):
    first, second = passengers(app, bus)[:2]
    client = app.test_client()
    response = post_aliyun(
        client, [uplink(first.phone, "1", 9001), uplink(second.phone, " 2 ", "9002")]
    )
    assert response.status_code == 200
    assert response.get_json() == {"code": 0, "msg": "成功"}
    assert seat_of(app, first.worker_id).reply == m.REPLY_CONFIRMED
    assert seat_of(app, second.worker_id) is None
    replies = _replies(app)
    assert [(r.provider, r.provider_sid, r.outcome) for r in replies] == [
        ("aliyun", "aliyun:9001", "confirmed"),
        ("aliyun", "aliyun:9002", "declined"),
    ]
    assert replies[0].from_phone == first.phone  # the national number read as E.164


def test_the_token_is_also_taken_from_the_query(app, bus):
    first = passengers(app, bus)[0]
    response = post_aliyun(app.test_client(), [uplink(first.phone, "1", 1)], in_path=False)
    assert response.status_code == 200
    assert seat_of(app, first.worker_id).reply == m.REPLY_CONFIRMED


def test_the_aliyun_push_needs_its_token(app, bus):
    first = passengers(app, bus)[0]
    client = app.test_client()
    assert post_aliyun(client, [uplink(first.phone, "2", 1)], token="wrong").status_code == 403
    assert post_aliyun(client, [uplink(first.phone, "2", 1)], token=None).status_code == 403
    assert client.post("/webhooks/aliyun/inbound/x", data="{").status_code == 403
    app.config["ALIYUN_SMS_CALLBACK_TOKEN"] = None  # not configured: the address does not exist
    assert post_aliyun(client, [uplink(first.phone, "2", 1)], token="").status_code == 404
    assert post_aliyun(client, [uplink(first.phone, "2", 1)]).status_code == 404
    assert seat_of(app, first.worker_id) is not None and _replies(app) == []


def test_a_push_that_is_not_an_array_is_refused(app):
    client = app.test_client()
    response = post_aliyun(client, {"phone_number": "13800138000"})  # type: ignore[arg-type]
    assert response.status_code == 400 and _replies(app) == []


def test_replays_are_ignored(app, bus):
    first, second = passengers(app, bus)[:2]
    client = app.test_client()
    for _ in range(2):
        assert post_twilio(client, first.phone, "1", "SM-same").status_code == 200
        assert post_aliyun(client, [uplink(second.phone, "2", 77)]).status_code == 200
    assert post_aliyun(client, [uplink(second.phone, "2", 77), uplink(second.phone, "2", 77)])
    assert [r.provider_sid for r in _replies(app)] == ["SM-same", "aliyun:77"]
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="worker.withdraw"))
            == 1
        )


def test_a_1_or_2_that_fits_no_bus_is_left_for_a_person(app, bus):
    first, second = passengers(app, bus)[:2]
    with app.app_context():  # the second passenger's notice never went out (no consent)
        db.session.query(OutboundMessage).filter_by(worker_id=second.worker_id).update(
            {"status": m.MSG_SUPPRESSED}
        )
        departure = db.session.get(Trip, bus).departure_at
        db.session.commit()
    client = app.test_client()
    post_twilio(client, "+8613000000001", "2", "SM-stranger")
    post_twilio(client, second.phone, "2", "SM-untold")
    with time_machine.travel(departure + timedelta(hours=12), tick=False):
        post_aliyun(client, [uplink(first.phone, "2", 5)])  # the bus has left
    outcomes = [(r.outcome, r.worker_id, r.trip_id) for r in _replies(app)]
    assert outcomes == [  # the bus they sit on is shown with the reply
        ("unrecognised", None, None),
        ("unrecognised", second.worker_id, bus),
        ("unrecognised", first.worker_id, bus),
    ]
    assert seat_of(app, first.worker_id) is not None and seat_of(app, second.worker_id) is not None
    with app.app_context():
        rows = reply_lists.unrecognised(_user("admin"))
        assert [row.why for row in rows] == [  # in the default language, Chinese
            "回复了1或2，但没有等待确认的车次（车已出发、座位已让出，或未发出乘车通知）。",
        ] * 2 + ["该号码不属于任何已登记人员。"]


def test_a_2_from_a_number_two_passengers_share_asks_a_person(app, bus):
    first, second = passengers(app, bus)[:2]
    with app.app_context():
        db.session.get(Worker, second.worker_id).phone = first.phone  # a family's one phone
        db.session.commit()
    post_twilio(app.test_client(), first.phone, "2", "SM-family")
    [reply] = _replies(app)
    assert reply.outcome == "unrecognised" and reply.trip_id == bus
    with app.app_context():
        [row] = reply_lists.unrecognised(_user("admin"))
        assert row.why.startswith("多名人员共用此号码")
    assert seat_of(app, first.worker_id) is not None and seat_of(app, second.worker_id) is not None


def test_opt_out_words_keep_working_and_are_stored(app, bus):
    first = passengers(app, bus)[0]
    post_aliyun(app.test_client(), [uplink(first.phone, "退订", 3)])
    with app.app_context():
        assert db.session.get(Worker, first.worker_id).opt_out_source == "sms"
    assert [r.outcome for r in _replies(app)] == ["opt_out"]


def _unrecognised_from_two_counties(app: Flask, bus: int) -> tuple[str, str]:
    """An unrecognised reply from a Hongtong passenger, one from another county's, one unknown."""
    mine = passengers(app, bus, "hongtong")[0]
    with app.app_context():
        other = db.session.scalars(
            select(Worker).where(Worker.county_id != "hongtong").order_by(Worker.id)
        ).first()
        other_phone = other.phone
    client = app.test_client()
    post_twilio(client, mine.phone, "车几点到？", "SM-mine")
    post_twilio(client, other_phone, "我要换车", "SM-other")
    post_aliyun(client, [uplink("+8613000000002", "你好", 11)])
    return mine.name, mine.phone


def test_the_list_is_scoped_and_handled_replies_leave_it(app, bus):
    name, phone = _unrecognised_from_two_counties(app, bus)
    client = app.test_client()
    login(client, "hong", COORD_PASSWORD)
    page = client.get("/replies/").get_data(as_text=True)
    assert "车几点到？" in page and name in page and phone in page
    assert "我要换车" not in page and "你好" not in page  # another county's; an unknown number
    mine = next(r for r in _replies(app) if r.body == "车几点到？")
    others = [r for r in _replies(app) if r.body != "车几点到？"]
    assert client.post(f"/replies/{others[0].id}/handled").status_code == 404

    assert client.post(f"/replies/{mine.id}/handled").status_code == 302
    page = client.get("/replies/").get_data(as_text=True)
    assert "车几点到？" not in page and "已标记为已处理" in page
    assert "车几点到？" in client.get("/replies/?handled=1").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).filter_by(action="reply.handled"))
        assert event.user_id == _user("hong").id and event.detail == {"reply": mine.id}

    login(client, "admin", ADMIN_PASSWORD)
    page = client.get("/replies/").get_data(as_text=True)
    assert "我要换车" in page and "你好" in page and "车几点到？" not in page


def test_viewers_read_masked_numbers_and_cannot_mark(app, bus):
    _name, phone = _unrecognised_from_two_counties(app, bus)
    client = app.test_client()
    login(client, "viewer", COORD_PASSWORD)
    page = client.get("/replies/").get_data(as_text=True)
    assert "车几点到？" in page and phone not in page and phone[3:6] + "****" in page
    reply_id = _replies(app)[0].id
    assert client.post(f"/replies/{reply_id}/handled").status_code == 403


def test_the_boarding_page_counts_answers(app, bus):
    first, second = passengers(app, bus, "hongtong")[:2]
    client = app.test_client()
    post_twilio(client, first.phone, "1", "SM-a")
    post_twilio(client, second.phone, "2", "SM-b")
    with app.app_context():
        trip = db.session.get(Trip, bus)
        day, seated = trip.date.isoformat(), len(trip.seats)
    login(client, "hong", COORD_PASSWORD)
    data = client.get(f"/boarding/data?date={day}").get_json()
    row = next(b for b in data["buses"] if b["trip_id"] == bus)
    assert (row["confirmed"], row["declined"], row["no_answer"]) == (1, 1, seated - 1)
    page = client.get(f"/boarding?date={day}").get_data(as_text=True)
    assert 'id="decline-list"' in page and second.name in page


@pytest.fixture
def pg_app(tmp_path, pg_url) -> Flask:
    """The demo planned and published on a throwaway PostgreSQL, a week before its buses."""
    app = make_app(tmp_path, pg_url)
    with app.app_context():
        seed_demo()
        db.session.commit()
    runner = app.test_cli_runner()
    planned = runner.invoke(args=["plan", "run", *WINDOW, "--time-limit", "2"])
    assert planned.exit_code == 0, planned.output
    published = runner.invoke(args=["plan", "publish", planned.output.splitlines()[0]])
    assert published.exit_code == 0, published.output
    configure(app)
    with time_machine.travel(WEEK_BEFORE, tick=True):
        yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.postgres
def test_on_postgresql_a_2_and_its_replay_at_once_free_one_seat_once(pg_app):
    bus = trip_with_county(pg_app, "hongtong")
    give_coach(pg_app, bus)
    first = passengers(pg_app, bus)[0]
    start = threading.Barrier(2)

    def push(_: int) -> int:
        client = pg_app.test_client()
        start.wait()
        return post_aliyun(client, [uplink(first.phone, "2", 4242)]).status_code

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(push, range(2))) == [200, 200]
    assert [r.provider_sid for r in _replies(pg_app)] == ["aliyun:4242"]
    assert seat_of(pg_app, first.worker_id) is None
    with pg_app.app_context():
        withdrawals = select(func.count(AuditEvent.id)).filter_by(action="worker.withdraw")
        assert db.session.scalar(withdrawals) == 1


def test_retention_blanks_the_replies_with_the_worker(app, bus):
    from dispatch.services.retention import run_retention

    first = passengers(app, bus)[0]
    client = app.test_client()
    post_twilio(client, first.phone, "车几点到？", "SM-r1")
    post_aliyun(client, [uplink("+8613000000002", "你好", 12)])
    with app.app_context():
        report = run_retention(WEEK_BEFORE + timedelta(days=200), 90, "Asia/Shanghai")
        assert report.workers > 0
    kept = [(r.body, r.from_phone, r.outcome) for r in _replies(app)]
    assert kept == [("", "", "unrecognised"), ("", "", "unrecognised")]
    with app.app_context():
        again = run_retention(WEEK_BEFORE + timedelta(days=200), 90, "Asia/Shanghai")
        assert not again.changed  # running it again changes nothing
