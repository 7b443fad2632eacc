"""A published bus changed on its page, in Chromium: a new departure time reaches the drivers
and the passengers (read on the messages page), and a bus with no coach yet counts no answers
to a departure notice it never sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import mask_phone
from dispatch.models import Trip
from tests.support.apps import ADMIN_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(field_app: Flask) -> Iterator[Flask]:
    """The live server of these journeys serves the published, notified plan."""
    yield field_app


def test_a_new_departure_time_set_on_the_bus_page_reaches_its_drivers_and_passengers(
    journey, demo_app, shot
):
    """The drivers' notices kept the old time when a coordinator moved a published bus's
    departure: only the passengers were told."""
    page = journey
    with demo_app.app_context():
        crewed = db.session.scalars(select(Trip).where(Trip.driver1_id.is_not(None))).all()
        trip = max(crewed, key=lambda t: len(t.seats))
        trip_id, driver = trip.id, mask_phone(trip.driver1.phone)
    with time_machine.travel(datetime(2026, 2, 21, 2, 0, tzinfo=UTC)):  # days before the bus
        log_in(page, "admin", ADMIN_PASSWORD)
        page.goto(f"/trips/{trip_id}")
        page.get_by_label("首站发车时间").fill("06:15")
        page.get_by_role("button", name="修改时间").click()
        expect(page.locator(".flash-success")).to_contain_text("发车时间已改为06:15")
        expect(page.get_by_label("首站发车时间")).to_have_value("06:15")
        shot(page, "bus-retimed")
        page.goto("/messages")
        page.get_by_label("车次").select_option(value=str(trip_id))
        page.get_by_label("类型").select_option(label="出车通知")
        page.get_by_role("button", name="筛选").click()
        rows = page.locator("#messages tbody tr").filter(has_text=driver)
        shot(page, "driver-notices")
        expect(rows).to_have_count(2)  # the notice sent a week ahead, then the new time's
        expect(rows.filter(has_text="06:15")).to_have_count(1)
        expect(rows.filter(has_text="06:15")).to_contain_text("待发送")
        page.get_by_label("类型").select_option(label="变更通知")
        page.get_by_role("button", name="筛选").click()
        expect(page.locator("#messages tbody tr").first).to_contain_text("上车时间")
        shot(page, "messages-retimed")


def test_a_bus_with_no_coach_counts_no_unanswered_departure_notice(journey, demo_app, shot):
    """Its passengers were only told they are on the list (no plate yet): the bus page counted
    them all as not having answered a departure notice nobody had sent them."""
    page = journey
    with demo_app.app_context():
        bare = db.session.scalars(select(Trip).where(Trip.coach_id.is_(None))).first()
        bare_id = bare.id
        crewed_id = db.session.scalars(select(Trip).where(Trip.coach_id.is_not(None))).first().id
    log_in(page, "admin", ADMIN_PASSWORD)
    page.goto(f"/trips/{bare_id}")
    expect(page.locator("#replies-no-coach")).to_contain_text("在本车安排车辆后发出")
    expect(page.locator("#reply-counts")).to_have_count(0)
    shot(page, "no-coach")
    page.goto(f"/trips/{crewed_id}")
    expect(page.locator("#reply-counts")).to_contain_text("未回复")
    expect(page.locator("#replies-no-coach")).to_have_count(0)
