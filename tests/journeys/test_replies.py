"""Replies to the departure notice in Chromium: a worker's "2" frees a seat the coordinator
gives to a waiting worker in one click, the boarding page counts the answers, and an
unrecognised reply is read and marked handled on the replies list."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect

from dispatch.extensions import db
from dispatch.models import Trip
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.replies import (
    WEEK_BEFORE,
    configure,
    give_coach,
    passengers,
    post_aliyun,
    post_twilio,
    trip_with_county,
    uplink,
)
from tests.support.seats import waiting_worker

pytestmark = pytest.mark.browser

QUESTION = "明天几点到集合点？"


@pytest.fixture
def demo_app(published_app: Flask) -> Iterator[Flask]:
    """The live server serves the published demo plan, a week before its buses."""
    configure(published_app)
    with time_machine.travel(WEEK_BEFORE, tick=True):
        yield published_app


@pytest.fixture
def answered(demo_app: Flask) -> dict:
    """A Hongtong bus with a plate whose passengers answered: one 1 (Aliyun), one 2 (Twilio),
    one question; and a waiting Hongtong worker who fits the bus."""
    trip_id = trip_with_county(demo_app, "hongtong")
    give_coach(demo_app, trip_id)
    decliner, confirmer, asker = passengers(demo_app, trip_id, "hongtong")[:3]
    waiting_id = waiting_worker(demo_app, trip_id, "候补甲", 901, county="hongtong")
    client = demo_app.test_client()
    assert post_aliyun(client, [uplink(confirmer.phone, "1", 101)]).status_code == 200
    assert post_twilio(client, decliner.phone, "２", "SM" + "d" * 32).status_code == 200
    assert post_aliyun(client, [uplink(asker.phone, QUESTION, 102)]).status_code == 200
    with demo_app.app_context():
        day = db.session.get(Trip, trip_id).date.isoformat()
    return {
        "trip_id": trip_id,
        "day": day,
        "decliner": decliner,
        "confirmer": confirmer,
        "asker": asker,
        "waiting_id": waiting_id,
    }


def test_a_decline_frees_the_seat_the_coordinator_fills_and_the_answers_show(
    journey, answered, shot
):
    page = journey
    trip_id, decliner = answered["trip_id"], answered["decliner"]
    seat = decliner.seat_no
    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/trips/{trip_id}")
    counts = page.locator("#reply-counts")
    expect(counts).to_contain_text("已确认 1 人")
    expect(counts).to_contain_text("不乘车 1 人")
    expect(page.locator("#declined-list")).to_contain_text(decliner.name)
    expect(page.locator("#declined-list")).to_contain_text("短信回复“２”，座位已空出")
    expect(page.locator(f'.seatmap [data-seat="{seat}"]')).to_have_class(re.compile(r"\bfree\b"))
    confirmed = page.locator(f'.seatmap [data-seat="{answered["confirmer"].seat_no}"]')
    expect(confirmed.locator(".seat-reply")).to_be_visible()
    expect(page.locator("#freed-seats h3")).to_contain_text(f"{seat} 号")
    shot(page, "bus-after-a-2")

    page.get_by_role("button", name=f"安排候补甲坐{seat}号座").click()
    expect(page.locator(".flash-success")).to_contain_text("候补甲")
    expect(page.locator(f'.seatmap [data-seat="{seat}"]')).to_contain_text("候补甲")
    expect(page.locator("#freed-seats")).to_have_count(0)  # the freed seat is taken again
    expect(page.locator("#occupancy")).to_be_visible()
    shot(page, "bus-seat-given")

    page.goto(f"/boarding?date={answered['day']}")
    row = page.locator(f'#boarding tr[data-trip="{trip_id}"]')
    expect(row.locator('[data-field="confirmed"]')).to_have_text("1")
    expect(row.locator('[data-field="declined"]')).to_have_text("1")
    expect(page.locator("#decline-list")).to_contain_text(decliner.name)
    expect(page.locator("#boarding thead")).to_contain_text("确认乘车(1)")
    shot(page, "boarding-answers")


def test_an_unrecognised_reply_is_read_and_handled(journey, answered, shot):
    page = journey
    asker = answered["asker"]
    log_in(page, "hong", COORD_PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="短信回复").click()
    expect(page.locator("h1")).to_contain_text("待处理的短信回复")
    row = page.locator("#replies tbody tr").filter(has_text=QUESTION)
    expect(row).to_contain_text(asker.name)
    expect(row).to_contain_text("不是1或2")
    expect(row.get_by_role("link", name=re.compile(r"T\d+"))).to_be_visible()
    shot(page, "replies-list")
    row.get_by_role("button", name="已处理").click()
    expect(page.locator(".flash-success")).to_contain_text("已标记为已处理")
    expect(page.locator("#replies")).not_to_contain_text(QUESTION)
    expect(page.locator("#replies")).to_contain_text("没有待处理的回复")
    page.get_by_role("link", name="显示已处理回复").click()
    expect(page.locator("h1")).to_contain_text("已处理的短信回复")
    expect(page.locator("#replies tbody tr").filter(has_text=QUESTION)).to_contain_text("已处理")
    shot(page, "replies-handled")


def test_the_answers_read_on_a_phone(phone_journey, answered, shot):
    page = phone_journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/trips/{answered['trip_id']}")
    expect(page.locator("#replies")).to_be_visible()
    shot(page, "bus-phone")
    page.goto("/replies/")
    expect(page.locator("#replies")).to_contain_text(QUESTION)
    shot(page, "replies-phone")
