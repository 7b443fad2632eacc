"""Going back (issue 17 §3): a draft replaced by a re-plan is made current again from its page,
and the re-plan steps aside."""

from __future__ import annotations

from datetime import date, time

import pytest
from playwright.sync_api import expect

from dispatch.extensions import db
from dispatch.models import Plan
from dispatch.services import planning
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser
HONGTONG = planning.Scope(date(2026, 2, 28), date(2026, 3, 3), ("hongtong",))


def _solved(base: Plan | None = None) -> Plan:
    plan = planning.start_plan(HONGTONG, None, base, time_limit_s=1)
    planning.store_result(plan, planning.solve_plan(plan, 1), time(8, 0), "Asia/Shanghai")
    db.session.commit()
    return plan


def test_a_coordinator_makes_a_superseded_draft_current_again(journey, demo_app, shot):
    with demo_app.app_context():
        first = _solved()
        second = _solved(first)  # the re-plan: the first draft is superseded
        first_id, second_id = first.id, second.id
        assert db.session.get(Plan, first_id).status == "superseded"
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/plans/{first_id}")
    expect(page.locator("#plan-status")).to_have_text("已被取代")
    page.get_by_role("button", name="恢复为当前草稿").click()
    expect(page.locator("#plan-status")).to_have_text("草稿")
    expect(page.locator(".flash-success")).to_contain_text("已恢复为当前草稿")
    expect(page.get_by_text(f"已搁置：调度方案 {second_id}")).to_be_visible()
    expect(page.locator("#publish")).to_be_visible()  # it can be published again
    shot(page, "restored")
    page.goto(f"/plans/{second_id}")
    expect(page.locator("#plan-status")).to_have_text("已被取代")
    expect(page.locator("#restore-plan")).to_be_visible()  # and back again, if wanted
    with demo_app.app_context():
        statuses = {p.id: p.status for p in db.session.query(Plan)}
    assert statuses == {first_id: "draft", second_id: "superseded"}
