"""A coordinator registers a person whose earlier registration was withdrawn, in Chromium: the
form comes back with everything typed, says whose ID number it is, and registers that worker
again with the new details (one record, no second worker)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import AuditEvent, Worker
from dispatch.services import workers as worker_service
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

NEW_PHONE = "13903589999"


def _withdrawn_worker(app) -> Worker:
    """A Hongtong worker of the demo, withdrawn (the record kept, cancelled)."""
    with app.app_context():
        query = select(Worker).filter_by(county_id="hongtong", status="registered").limit(1)
        worker = db.session.scalar(query)
        worker_service.withdraw_worker(worker, None)
        db.session.commit()
        db.session.refresh(worker)
        db.session.expunge_all()
        return worker


def _worker(app, worker_id: int) -> Worker:
    with app.app_context():
        worker = db.session.get(Worker, worker_id)
        db.session.expunge_all()
        return worker


def _fill(page, id_number: str) -> None:
    page.get_by_label("姓名").fill("韩晓新")
    page.get_by_label("身份证号").fill(id_number)
    page.get_by_label("手机号").fill(NEW_PHONE)
    page.get_by_label("目的地").select_option(label="太仓市")
    page.get_by_label("最早出发日期").fill("2026-03-02")
    page.get_by_label("备注").fill("换了新手机，改去太仓")


def test_a_withdrawn_id_number_keeps_what_was_typed_and_registers_that_worker_again(
    demo_app, journey, shot
):
    old = _withdrawn_worker(demo_app)
    with demo_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Worker))
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto("/workers/new")
    _fill(page, old.id_number)
    page.get_by_role("button", name="登记", exact=True).click()

    notice = page.locator("#withdrawn-match")
    expect(notice).to_contain_text(f"该身份证号属于 {old.name}，其登记已撤销")
    expect(page).to_have_url(re.compile(r"/workers/new$"))  # not the old record's page
    assert page.get_by_label("姓名").input_value() == "韩晓新"  # nothing typed is lost
    assert page.get_by_label("手机号").input_value() == NEW_PHONE
    assert page.get_by_label("目的地").input_value() == "js-taicang"
    assert page.get_by_label("最早出发日期").input_value() == "2026-03-02"
    assert page.get_by_label("备注").input_value() == "换了新手机，改去太仓"
    expect(notice.get_by_role("link", name="查看已撤销的记录")).to_have_attribute(
        "href", f"/workers/{old.id}"
    )
    shot(page, "withdrawn-id-number")
    assert _worker(demo_app, old.id).status == "cancelled"  # nothing changed yet

    notice.get_by_role("button", name="按这些信息恢复登记").click()
    expect(page.locator(".flash-success")).to_have_text(
        "韩晓新 已按新填写的信息恢复登记，等待安排座位。"
    )
    expect(page).to_have_url(re.compile(rf"/workers/{old.id}$"))
    expect(page.locator("h1 .badge")).to_have_text("已登记")
    assert page.get_by_label("手机号").input_value() == "+86" + NEW_PHONE
    assert page.get_by_label("备注").input_value() == "换了新手机，改去太仓"
    shot(page, "registered-again")
    again = _worker(demo_app, old.id)
    assert (again.status, again.name, again.phone) == ("registered", "韩晓新", "+86" + NEW_PHONE)
    assert again.destination_site_id == "js-taicang" and again.id_number == old.id_number
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Worker)) == before
        events = select(AuditEvent).filter_by(object_type="worker", object_id=str(old.id))
        last = db.session.scalars(events.order_by(AuditEvent.id.desc())).first()
        assert last.action == "worker.reinstate" and "phone" in last.detail["fields"]
