"""A coordinator reads what was sent: the demo plan published with its coaches, the tick run,
then the messages page, the worker's page and the dashboard in Chromium (issue 18 §2, §5).

This module's ``live_server`` serves that app, so the shared ``journey`` and
``phone_journey`` pages (tests/support/browser.py) open on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan
from dispatch.notify.segments import count_segments
from dispatch.services.notices import notices
from tests.support.apps import ADMIN_PASSWORD
from tests.support.browser import LiveServer, log_in
from tests.support.coaches import assign_coaches

pytestmark = pytest.mark.browser
NOW = datetime(2026, 2, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, days before every bus


@pytest.fixture
def notified(published_app):
    """The published demo plan with its coaches, its notices written and the tick run."""
    with published_app.app_context():
        plan = db.session.get(Plan, published_app.config["TEST_PLAN_ID"])
        assign_coaches(plan, before_notices=True)
        db.session.commit()
        notices.schedule_for_published_plan(plan, NOW, published_app.config)
        db.session.commit()
    result = published_app.test_cli_runner().invoke(
        args=["notify", "tick", "--now", NOW.isoformat()]
    )
    assert result.exit_code == 0 and "sent=" in result.output, result.output
    return published_app


@pytest.fixture
def live_server(notified) -> Iterator[LiveServer]:
    server = LiveServer(notified)
    yield server
    server.stop()


def test_the_text_sent_is_on_the_messages_page_the_workers_page_and_the_dashboard_counts_it(
    journey, notified, shot
):
    app, page = notified, journey
    with app.app_context():
        row = db.session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.kind == "departure", OutboundMessage.status == "sent")
            .order_by(OutboundMessage.id.desc())  # newest first: on the first page
        ).first()
        body, worker_id, name, row_id = row.body, row.worker_id, row.worker.name, row.id
        sent = len(
            db.session.scalars(
                select(OutboundMessage.worker_id).where(
                    OutboundMessage.kind == "departure", OutboundMessage.status == "sent"
                )
            ).all()
        )
    assert body.startswith("【临汾人社】") and count_segments(body) == 1
    log_in(page, "admin", ADMIN_PASSWORD)

    page.goto("/messages/")
    page.get_by_label("类型").select_option(label="乘车通知")
    page.get_by_label("状态").select_option(label="已发送")
    page.get_by_role("button", name="筛选").click()
    cell = page.locator(f'tr:has(a[href="/workers/{worker_id}"]) .sms-text')
    expect(cell.locator(".sms-body")).to_have_text(body)
    expect(cell.locator(".sms-meta")).to_contain_text("计费 1 条")
    expect(cell.locator(".sms-meta")).to_contain_text("费用 ¥0.05")
    shot(page, "messages page")

    page.locator(
        f'tr:has(.sms-body:text-is("{body}")) a[href="/workers/{worker_id}"]'
    ).first.click()
    expect(page.get_by_role("heading", name="发给该务工人员的短信")).to_be_visible()
    mine = page.locator("#worker-messages .sms-body", has_text=body)
    expect(mine).to_have_text(body)
    expect(page.locator("#worker-messages")).to_contain_text("乘车通知")
    shot(page, f"worker {name}")

    page.goto("/")
    notified_count = int(page.locator('[data-stage="notified"]').inner_text())
    assert notified_count == sent > 0
    assert page.locator('[data-stage="delivered"]').inner_text() == "0"
    shot(page, "dashboard")
    with app.app_context():  # the receipt of one departure notice says delivered
        row = db.session.get(OutboundMessage, row_id)
        row.status, row.delivered_at = "delivered", NOW
        db.session.commit()
    page.reload()
    expect(page.locator('[data-stage="delivered"]')).to_have_text("1")
    expect(page.locator('[data-stage="notified"]')).to_have_text(str(notified_count))


def test_the_workers_messages_read_on_a_phone(phone_journey, notified, shot):
    app, page = notified, phone_journey
    with app.app_context():
        row = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "departure")
        ).first()
        body, worker_id = row.body, row.worker_id
    log_in(page, "admin", ADMIN_PASSWORD)
    page.goto(f"/workers/{worker_id}")
    text = page.locator("#worker-messages .sms-body", has_text=body)
    expect(text).to_have_text(body)
    box = text.bounding_box()
    assert box and box["width"] >= 250 and box["x"] + box["width"] <= 390  # on screen, whole
    shot(page, "worker on a phone")
