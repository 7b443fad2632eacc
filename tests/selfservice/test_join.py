"""/join without a browser: the code, the registration, the neutral duplicate, the limits."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, VerificationCode, Worker, utcnow
from dispatch.services import planning
from tests.support.selfservice import (
    audit_of,
    e164,
    join_fields,
    join_phone,
    notices,
    sent_code,
    worker_by_id_number,
)
from tests.support.tickets import NEXT_CODE

FETCH = {"X-Requested-With": "fetch"}


def _code(client, app, n: int) -> str:
    answer = client.post("/join/code", data={"phone": join_phone(n)}, headers=FETCH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return sent_code(app, n)


def test_the_page_is_chinese_offers_the_17_counties_and_takes_a_posters_preset(client):
    page = client.get("/join?county=hongtong&pickup=hongtong").get_data(as_text=True)
    assert "报名" in page and "获取验证码" in page and "个人信息" in page
    assert page.count('data-site="') >= 17
    county_select = page.split('id="f-county"')[1].split("</select>")[0]
    assert county_select.count("<option value=") == 18  # the 17 counties and "choose"
    assert '<option value="hongtong" selected>洪洞县</option>' in county_select
    assert (
        "90 天后删除" in page and "30 天后匿名化" in page
    )  # how long: RETENTION_DAYS and the pending rule
    unknown = client.get("/join?county=nowhere&pickup=%3Cscript%3E").get_data(as_text=True)
    assert (
        "<script>" not in unknown and " selected>" not in unknown.split('id="f-county"')[1][:2000]
    )


def test_code_wrong_then_right_registers_a_pending_worker(client, demo_app):
    fields = join_fields(1)
    code = _code(client, demo_app, 1)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/join", data={**fields, "code": wrong})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "验证码不对或已过期" in page
    assert fields["id_number"] in page and fields["name"] in page  # nothing typed is lost
    assert worker_by_id_number(demo_app, fields["id_number"]) is None

    done = client.post("/join", data={**fields, "code": code})
    assert done.status_code == 303 and done.headers["Location"].endswith("/join/done")
    worker = worker_by_id_number(demo_app, fields["id_number"])
    assert (worker.status, worker.source, worker.county_id) == ("pending", "self", "hongtong")
    assert worker.phone == e164(join_phone(1)) and worker.sms_consent
    assert audit_of(demo_app, "worker.self_register")[0].detail["privacy_notice"]
    # The code works once only.
    again = client.post("/join", data={**join_fields(1, name="别人"), "code": code})
    assert again.status_code == 422


def test_the_code_is_stored_hashed_and_masked_in_the_outbox(client, demo_app):
    code = _code(client, demo_app, 2)
    with demo_app.app_context():
        row = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "verification")
        ).one()
        stored = db.session.scalars(select(VerificationCode)).one()
        assert code not in row.body and "******" in row.body
        assert code not in stored.code_hash and len(stored.code_hash) == 64


def test_errors_are_named_on_the_field_in_chinese_and_no_code_is_spent(client, demo_app):
    code = _code(client, demo_app, 3)
    bad = join_fields(
        3, id_number="141024199507010011", privacy_consent="", earliest_date="2020-01-01"
    )
    page = client.post("/join", data={**bad, "code": code}).get_data(as_text=True)
    assert 'id="err-id_number"' in page and "校验位" in page
    assert 'id="err-privacy_consent"' in page
    assert 'id="err-earliest_date"' in page
    assert f'name="code" type="text" value="{code}"' in page  # kept: it was cleared
    good = client.post("/join", data={**join_fields(3), "code": code})
    assert good.status_code == 303  # the code was not tried by the refused form


def test_a_registered_id_number_gets_the_answer_of_a_new_one(client, demo_app):
    with demo_app.app_context():
        known = db.session.scalars(select(Worker).where(Worker.status == "registered")).first()
        known_id, known_phone = known.id_number, known.phone
        before = db.session.query(Worker).count()
    fresh = client.post("/join", data={**join_fields(4), "code": _code(client, demo_app, 4)})
    dup = client.post(
        "/join", data={**join_fields(5, id_number=known_id), "code": _code(client, demo_app, 5)}
    )
    assert dup.status_code == fresh.status_code == 303
    assert dup.headers["Location"] == fresh.headers["Location"]
    assert (
        client.get(dup.headers["Location"]).get_data()
        == client.get(fresh.headers["Location"]).get_data()
    )
    with demo_app.app_context():
        assert db.session.query(Worker).count() == before + 1
    assert worker_by_id_number(demo_app, known_id).phone == known_phone  # untouched
    assert [m.kind for m in notices(demo_app, "registration")] == []  # no SMS to anyone
    assert notices(demo_app, "verification", known_phone) == []
    assert len(audit_of(demo_app, "worker.self_register_duplicate")) == 1


def test_the_code_request_answers_the_same_for_any_number(client, demo_app):
    with demo_app.app_context():
        known = db.session.scalars(select(Worker)).first().phone
    one = client.post("/join/code", data={"phone": known[3:]}, headers=FETCH)
    other = client.post("/join/code", data={"phone": join_phone(6)}, headers=FETCH)
    assert one.status_code == other.status_code == 200
    assert one.get_json() == other.get_json()


def test_the_sixth_code_in_an_hour_is_refused_in_chinese(client, demo_app):
    with time_machine.travel(utcnow(), tick=True) as clock:
        for _ in range(5):
            assert (
                client.post("/join/code", data={"phone": join_phone(7)}, headers=FETCH).status_code
                == 200
            )
            clock.shift(NEXT_CODE)  # a minute apart, as the page's button allows
        sixth = client.post("/join/code", data={"phone": join_phone(7)}, headers=FETCH)
        assert sixth.status_code == 429
        assert "验证码次数太多" in sixth.get_json()["message"]
        assert int(sixth.headers["Retry-After"]) > 0
        page = client.post("/join/code", data={**join_fields(7)})  # without the script: the page
        assert page.status_code == 429 and "验证码次数太多" in page.get_data(as_text=True)
    assert join_fields(7)["name"] in page.get_data(as_text=True)
    sent = [s for s in demo_app.extensions["sms_gateway"].sent if s.to == e164(join_phone(7))]
    assert len(sent) == 5


def test_a_number_gets_one_code_a_minute_and_is_told_the_seconds_to_wait(client, demo_app):
    to_phone = e164(join_phone(8))

    def codes_sent() -> int:
        return len([s for s in demo_app.extensions["sms_gateway"].sent if s.to == to_phone])

    with time_machine.travel(utcnow(), tick=False) as clock:
        first = client.post("/join/code", data={"phone": join_phone(8)}, headers=FETCH)
        assert first.status_code == 200 and first.get_json()["wait"] == 60  # the button's wait
        clock.shift(20)  # a script, or the page open in a second tab
        second = client.post("/join/code", data={"phone": join_phone(8)}, headers=FETCH)
        assert second.status_code == 429 and second.get_json()["retry_after"] == 40
        assert second.get_json()["message"] == "刚刚已向这个手机号发送验证码，请 40 秒后再获取。"
        english = demo_app.test_client()
        english.post("/language", data={"lang": "en", "next": "/join"})
        third = english.post(
            "/join/code", data={**join_fields(8)}, environ_base={"REMOTE_ADDR": "10.0.0.8"}
        )  # without the script, from elsewhere: the page, what was typed kept
        page = third.get_data(as_text=True)
        assert third.status_code == 429 and join_fields(8)["name"] in page
        assert "A code was sent to this number a moment ago" in page and " 40 seconds" in page
        assert codes_sent() == 1
        with demo_app.app_context():  # nothing recorded for the refused requests
            assert db.session.query(VerificationCode).count() == 1
        clock.shift(40)  # the minute is up
        again = client.post("/join/code", data={"phone": join_phone(8)}, headers=FETCH)
        assert again.status_code == 200
        assert codes_sent() == 2


def test_each_address_has_its_own_limit(client, demo_app):
    demo_app.config["VERIFY_CODES_PER_IP_HOUR"] = 3
    for n in range(3):
        assert (
            client.post("/join/code", data={"phone": join_phone(10 + n)}, headers=FETCH).status_code
            == 200
        )
    refused = client.post("/join/code", data={"phone": join_phone(20)}, headers=FETCH)
    assert refused.status_code == 429 and "网络" in refused.get_json()["message"]
    other = demo_app.test_client()
    elsewhere = other.post(
        "/join/code",
        data={"phone": join_phone(21)},
        headers=FETCH,
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert elsewhere.status_code == 200


def test_flask_limiter_guards_every_public_endpoint(client, demo_app):
    demo_app.config.update(JOIN_SUBMIT_LIMIT="2 per hour", JOIN_PAGE_LIMIT="3 per minute")
    for _ in range(2):
        client.post("/join", data=join_fields(30))
    third = client.post("/join", data=join_fields(30))
    assert third.status_code == 429 and "请求太频繁" in third.get_data(as_text=True)
    assert join_fields(30)["id_number"] in third.get_data(as_text=True)
    for _ in range(3):
        client.get("/join/qr.svg")
    assert client.get("/join").status_code == 429


def test_a_bad_number_is_named_and_sends_nothing(client, demo_app):
    answer = client.post("/join/code", data={"phone": "0357-1234567"}, headers=FETCH)
    assert answer.status_code == 422 and "手机号" in answer.get_json()["fields"]["phone"]
    assert demo_app.extensions["sms_gateway"].sent == []


def test_csrf_is_required(client, demo_app):
    demo_app.config["WTF_CSRF_ENABLED"] = True  # read per request by CSRFProtect
    assert client.post("/join/code", data={"phone": join_phone(40)}).status_code == 400
    assert client.post("/join", data=join_fields(40)).status_code == 400
    assert demo_app.extensions["sms_gateway"].sent == []


def test_the_planner_and_the_seat_editor_ignore_pending_workers(client, demo_app):
    client.post("/join", data={**join_fields(50), "code": _code(client, demo_app, 50)})
    pending = worker_by_id_number(demo_app, join_fields(50)["id_number"])
    assert pending.status == "pending"
    with demo_app.app_context():
        scope = planning.Scope(date_from=pending.earliest_date, date_to=pending.latest_date)
        assert pending.id not in {w.id for w in planning.open_workers(scope)}


@pytest.mark.parametrize("county", ["hongtong"])
def test_the_workers_list_shows_pending_as_awaiting_review(client, demo_app, county):
    from tests.support.apps import COORD_PASSWORD, login

    client.post("/join", data={**join_fields(60), "code": _code(client, demo_app, 60)})
    login(client, "hong", COORD_PASSWORD)
    page = client.get(f"/workers/?county={county}&status=pending").get_data(as_text=True)
    assert join_fields(60)["name"] in page and "待审核" in page
    assert 'id="pending-link"' in page
    dashboard = client.get("/").get_data(as_text=True)
    assert "有 1 条自助报名待审核" in dashboard
    worker = worker_by_id_number(demo_app, join_fields(60)["id_number"])
    assert "尚待审核" in client.get(f"/workers/{worker.id}").get_data(as_text=True)


def test_hostile_text_is_an_error_on_its_field_never_a_crash(client, demo_app):
    code = _code(client, demo_app, 70)
    fields = join_fields(70, name="张\x00三", employer_text="厂\x1b[31m", group="x" * 41)
    answer = client.post("/join", data={**fields, "code": code + "\x00"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="err-name"' in page and 'id="err-group"' in page
    assert "\x00" not in page and "\x1b" not in page
    assert worker_by_id_number(demo_app, fields["id_number"]) is None


def test_an_employer_typed_by_hand_is_matched_or_kept_for_the_coordinator(client, demo_app):
    from dispatch.models import Employer

    with demo_app.app_context():
        known = db.session.scalars(select(Employer).where(Employer.site_id == "js-kunshan")).first()
        known_id, known_name = known.id, known.name
    client.post(
        "/join",
        data={**join_fields(71, employer_text=known_name), "code": _code(client, demo_app, 71)},
    )
    client.post(
        "/join",
        data={**join_fields(72, employer_text="某某电子厂"), "code": _code(client, demo_app, 72)},
    )
    assert worker_by_id_number(demo_app, join_fields(71)["id_number"]).employer_id == known_id
    unknown = worker_by_id_number(demo_app, join_fields(72)["id_number"])
    assert unknown.employer_id is None and "某某电子厂" in unknown.notes
