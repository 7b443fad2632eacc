"""A draft whose buses left before now (a day planned in the morning of that day): the plan
page and the publish page name those buses and say that their drivers are told nothing and
their passengers only at stops still ahead, where the publish page said nothing of it and
blamed the missing driver notices on drivers not being set."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Coach, Plan
from dispatch.services import planning
from tests.support import seats as seats_data
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

BEFORE = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)  # days before the demo's trips


def _draft_with_a_driver(app) -> tuple[int, list[tuple[str, datetime]]]:
    """A draft of the demo's days (planned days before them), a coach with its drivers on its
    first bus; the plan, and its buses' codes with their departure times, earliest first."""
    with time_machine.travel(BEFORE), app.app_context():
        plan = planning.start_plan(
            planning.Scope(date(2026, 2, 28), date(2026, 3, 3)), None, time_limit_s=1
        )
        planning.store_result(plan, planning.solve_plan(plan, 1), time(8, 0), "Asia/Shanghai")
        trips = sorted(plan.trips, key=lambda t: (t.departure_at, t.id))
        coach = db.session.scalars(
            select(Coach)
            .where(Coach.coach_type_id == trips[0].coach_type_id, Coach.driver1_id.is_not(None))
            .order_by(Coach.id)
        ).first()
        trips[0].coach_id, trips[0].driver1_id = coach.id, coach.driver1_id
        db.session.commit()
        return plan.id, [(t.code, t.departure_at) for t in trips]


def test_buses_that_left_before_now_are_named_before_publishing(journey, shot, demo_app):
    page, app = journey, demo_app
    seats_data.add_user(app, "city", "coordinator", COORD_PASSWORD)
    plan_id, buses = _draft_with_a_driver(app)
    first_code, first_leaves = buses[0]
    later = [code for code, leaves in buses if leaves > first_leaves + timedelta(minutes=30)]
    assert later, "the demo's buses all leave within half an hour of each other"
    with time_machine.travel(first_leaves + timedelta(minutes=22), tick=True):
        log_in(page, "city", COORD_PASSWORD)
        page.goto(f"/plans/{plan_id}")
        warning = page.locator("#departed")
        expect(warning).to_contain_text(first_code)
        expect(warning).to_contain_text("首站发车时间已过")
        assert later[0] not in warning.inner_text().replace(first_code, "")
        page.get_by_role("link", name="发布…").click()
        warning = page.locator("#departed")
        expect(warning).to_contain_text(first_code)
        expect(warning).to_contain_text("驾驶员不会收到出车通知")
        # a driver is set on the first bus: the page does not say none is
        expect(page.locator("body")).not_to_contain_text("目前还没有车辆指定司机")
        shot(page, "publish page names the departed bus")
    with app.app_context():  # nothing was published by reading
        assert db.session.get(Plan, plan_id).status == "draft"
