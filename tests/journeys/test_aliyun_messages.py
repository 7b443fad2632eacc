"""With SMS_BACKEND=aliyun and no approved template yet for the welfare reminder, a coordinator
sees on the messages page that those notices are held, and why, in Chinese (issue 18 §1).

This module's ``live_server`` serves that app, so the shared ``journey`` page
(tests/support/browser.py) opens on it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan, Trip
from dispatch.notify.outbox import HELD_TEMPLATE
from dispatch.services.notices import notices
from tests.support.aliyun import TEMPLATES, aliyun_config
from tests.support.apps import ADMIN_PASSWORD, base_config
from tests.support.browser import LiveServer, log_in
from tests.support.coaches import assign_coaches

pytestmark = pytest.mark.browser
NOW = datetime(2026, 2, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, days before every bus


@pytest.fixture
def held_app(tmp_path: Path, published_template, aliyun):
    """The published demo plan sending through Aliyun, with no welfare template configured;
    the ticks run up to the day before departure, when the welfare reminders fall due."""
    source, plan_id = published_template
    target = tmp_path / "published.db"
    shutil.copy(source, target)
    templates = {k: v for k, v in TEMPLATES.items() if k != notices.WELFARE}
    config = {
        **base_config(tmp_path, f"sqlite:///{target}"),
        **aliyun_config(aliyun, ALIYUN_SMS_TEMPLATES=json.dumps(templates)),
    }
    app = create_app(config, instance_path=str(tmp_path))
    aliyun.now = lambda: NOW
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assign_coaches(plan, before_notices=True)
        db.session.commit()
        notices.schedule_for_published_plan(plan, NOW, app.config)
        db.session.commit()
        welfare_due = db.session.scalar(
            select(func.min(OutboundMessage.due_at)).where(OutboundMessage.kind == notices.WELFARE)
        )
    runner = app.test_cli_runner()
    for moment in (NOW, welfare_due + timedelta(minutes=1)):
        result = runner.invoke(args=["notify", "tick", "--now", moment.isoformat()])
        assert result.exit_code == 0, result.output
    assert "no_template=" in result.output, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(held_app) -> Iterator[LiveServer]:
    server = LiveServer(held_app)
    yield server
    server.stop()


def test_welfare_reminders_without_a_template_show_as_held(journey, held_app, aliyun, shot):
    app, page = held_app, journey
    with app.app_context():
        held = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.error_code == HELD_TEMPLATE)
        ).all()
        assert held and {(r.kind, r.status) for r in held} == {(notices.WELFARE, "pending")}
        trip = db.session.get(Trip, held[0].trip_id)
        bus = f"{trip.date.isoformat()} {trip.code}"
        on_bus = sum(r.trip_id == trip.id for r in held)
    assert TEMPLATES[notices.WELFARE] not in {r["TemplateCode"] for r in aliyun.sent}
    log_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/messages/")
    page.get_by_label("类型").select_option(label="暖心礼包提醒")
    page.get_by_label("状态").select_option(label="待发送")
    page.get_by_label("车次").select_option(label=bus)
    page.get_by_role("button", name="筛选").click()
    shot(page, "held welfare reminders")
    reasons = page.locator("td.reason", has_text="暂缓发送：此类通知尚无审核通过的短信模板")
    expect(reasons.first).to_be_visible()
    assert reasons.count() == on_bus
