"""The driver's hand-over list at a stop follows the boarding taps: once everyone getting off
there is marked boarded, it stops telling the driver that some are not (it said so until a
reload)."""

from __future__ import annotations

import re

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect

from dispatch.extensions import db
from dispatch.models import Trip
from dispatch.services import driver_links
from tests.support.field import hongtong_trip, on_the_day

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(field_app: Flask):
    """The demo with its plan published and coaches set (tests/support/field.py)."""
    yield field_app


def test_the_unmarked_note_goes_once_everyone_of_the_stop_is_boarded(phone_journey, demo_app, shot):
    page = phone_journey
    trip_id = hongtong_trip(demo_app)
    with demo_app.app_context():
        token = driver_links.token_for(db.session.get(Trip, trip_id), demo_app.secret_key)
    with time_machine.travel(on_the_day(demo_app, trip_id)):
        page.goto(f"/m/{token}")
        form = page.locator("form.arrival").first
        hint = form.locator(".unmarked-hint")
        expect(hint).to_be_visible()  # nobody is marked boarded yet
        workers = form.locator('input[name="worker_id"]').evaluate_all(
            "boxes => boxes.map(b => b.value)"
        )
        for worker in workers:
            row = page.locator(f'tr[data-worker="{worker}"]')
            row.get_by_role("button", name="已上车").tap()
            expect(row).to_have_class(re.compile("is-boarded"))
        expect(form.locator("label.unmarked")).to_have_count(0)
        expect(hint).to_be_hidden()
        shot(page, "everyone of the stop boarded")
