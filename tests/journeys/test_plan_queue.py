"""The plan queue as a county coordinator sees it (issue 21): a plan waits its turn with its place
in line, a running one shows its progress and the process running it, both can be cancelled,
overlapping scopes are flagged before a second plan starts, and bad requests queue nothing."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.jobs.planning_worker import owner_name
from dispatch.models import Plan, Trip
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def _start(page, first: str, last: str, limit: str = "30"):
    page.goto("/plans/")
    page.get_by_label("从", exact=True).fill(first)
    page.get_by_label("至", exact=True).fill(last)
    page.get_by_label("时间上限（秒）").fill(limit)
    page.get_by_role("button", name="开始编排").click()


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_coordinator_watches_the_queue_and_cancels_a_waiting_and_a_running_plan(
    journey, demo_app, shot
):
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    _start(page, "2026-02-28", "2026-03-01")
    page.wait_for_url("**/plans/*")
    expect(page.locator("#plan-worker")).to_contain_text(owner_name(), timeout=15_000)
    expect(page.locator("#plan-progress")).to_be_visible()
    running_url = page.url
    shot(page, "running")

    _start(page, "2026-03-02", "2026-03-03")  # the worker has one slot: this one waits
    page.wait_for_url("**/plans/*")
    expect(page.locator("#plan-queued")).to_contain_text("排队第1位")
    queued_url = page.url
    shot(page, "queued")
    page.goto("/plans/")
    listing = page.locator("#plans")
    expect(listing).to_contain_text("排队第1位")
    expect(listing).to_contain_text(owner_name())
    shot(page, "plans-list")

    _start(page, "2026-03-01", "2026-03-02")  # overlaps both: told before anything starts
    expect(page.locator("#plan-overlap")).to_contain_text("已在排队或运行中")
    assert page.locator("#plan-anyway").is_visible()
    shot(page, "overlap-warning")
    assert _count(demo_app, Plan) == 2

    page.goto(queued_url)
    page.get_by_role("button", name="取消本次编排").click()
    expect(page.locator("#plan-status")).to_have_text("已取消")
    page.goto(running_url)
    page.get_by_role("button", name="取消本次编排").click()
    started = time.monotonic()
    expect(page.locator("#plan-cancelled")).to_contain_text("未保留任何结果")
    shot(page, "cancelled")
    worker = demo_app.extensions["planning_worker"]
    while worker.running and time.monotonic() - started < 10:
        worker.running = {k: t for k, t in worker.running.items() if t.is_alive()}
        time.sleep(0.1)
    assert time.monotonic() - started < 10  # the solver stopped within seconds
    assert _count(demo_app, Plan, Plan.status == "cancelled") == 2
    assert _count(demo_app, Trip) == 0  # nothing half-stored


def test_bad_plan_requests_are_refused_on_their_field_and_queue_nothing(journey, demo_app, shot):
    page = journey
    page.console_watch.allow("status of 400")  # a refused form answers 400, on purpose
    log_in(page, "hong", COORD_PASSWORD)
    _start(page, "2026-03-01", "2026-03-02", limit="abc")
    expect(page.locator("#err-time_limit")).to_contain_text("请输入1到600之间的秒数")
    _start(page, "2027-06-01", "2027-06-02")
    expect(page.locator("#err-county")).to_contain_text("没有等待出行的务工人员")
    shot(page, "nobody-waiting")
    _start(page, "2026-03-02", "2026-03-01")
    expect(page.locator("#err-date_to")).to_contain_text("结束日期不能早于开始日期")
    _start(page, "2026-03-01", "2062-03-01")  # a mistyped year
    expect(page.locator("#err-date_to")).to_contain_text("一次计划最多覆盖 92 天")
    expect(page.get_by_label("至", exact=True)).to_have_value("2062-03-01")  # kept to correct
    shot(page, "period-too-long")
    assert _count(demo_app, Plan) == 0
