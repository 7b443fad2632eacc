"""Tables a coordinator reads on a phone at the pickup point: the registrations to review and
the welfare packs, a card per row with nothing to scroll sideways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect

from dispatch.extensions import db
from dispatch.models import Trip
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import PHONE, log_in
from tests.support.field import hongtong_trip, on_the_day
from tests.support.selfservice import join_fields, join_phone, sent_code, worker_by_id_number

pytestmark = pytest.mark.browser
FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture
def demo_app(field_app: Flask) -> Iterator[Flask]:
    """The demo with its plan published and coaches set (tests/support/field.py)."""
    yield field_app


def _sideways(page) -> list[str]:
    """The tables (and the page) wider than the phone's screen."""
    return page.evaluate(
        """() => [document.documentElement, ...document.querySelectorAll('.table-wrap')]
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => e.id || e.className || e.tagName)"""
    )


def _self_registered(app, n: int) -> str:
    """A worker registered on /join (a code asked for, then the form sent); their name."""
    client = app.test_client()
    answer = client.post("/join/code", data={"phone": join_phone(n)}, headers=FETCH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    fields = join_fields(n, group=f"王{n:04d}")
    assert client.post("/join", data={**fields, "code": sent_code(app, n)}).status_code == 303
    return fields["name"]


def test_the_coordinator_reviews_registrations_on_a_phone(phone_journey, demo_app, shot):
    page = phone_journey
    names = [_self_registered(demo_app, n) for n in (31, 32)]
    log_in(page, "hong", COORD_PASSWORD)
    page.goto("/registrations")
    expect(page.locator("#pending tbody tr")).to_have_count(2)
    assert _sideways(page) == []
    card = page.locator("#pending tbody tr").filter(has_text=names[0])
    expect(card.locator('td[data-label="目的地"]')).to_be_visible()
    assert card.bounding_box()["width"] <= PHONE["width"]
    shot(page, "review on a phone")
    card.get_by_role("button", name="通过", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("已通过 1 条报名")
    assert worker_by_id_number(demo_app, join_fields(31)["id_number"]).status == "registered"
    assert _sideways(page) == []


def test_the_coordinator_hands_out_packs_on_a_phone(phone_journey, demo_app, shot):
    page = phone_journey
    trip_id = hongtong_trip(demo_app)
    with demo_app.app_context():
        day = db.session.get(Trip, trip_id).date
    with time_machine.travel(on_the_day(demo_app, trip_id)):
        log_in(page, "hong", COORD_PASSWORD)
        page.goto(f"/welfare?date={day}")
        assert _sideways(page) == []
        card = page.locator("section.card").first
        row = card.locator("tbody tr").first
        name = row.locator("td").first.inner_text()
        shot(page, "welfare on a phone")
        row.get_by_role("button", name="发放", exact=True).click()
        expect(page.locator("body")).to_contain_text(f"已为{name}发放礼包。")
        assert _sideways(page) == []
