"""The ticket lookup in Chromium on a 390×844 phone: a worker of the published demo plan asks
for a code with ID number and mobile, types a wrong code then the right one, reads the bus,
seat, time, plate, driver and welfare pack, and the QR e-ticket decodes to a valid ticket;
then withdraws and the coordinator's bus page shows the seat free. A stranger gets the same
answer and no SMS, and the limits answer 429."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import time

import pytest
import time_machine
import zxingcpp
from flask import Flask
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Site, Worker, utcnow
from dispatch.services import etickets
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.tickets import (
    NEXT_CODE,
    Passenger,
    add_handout,
    before_departure,
    codes_sent,
    give_coach,
    seated_worker,
    stranger_id_number,
)

pytestmark = pytest.mark.browser

HANDOUT_PLACE = "洪洞县人社局一楼大厅"


@pytest.fixture
def demo_app(published_app: Flask) -> Iterator[Flask]:
    """The live server of these journeys serves the published demo plan."""
    yield published_app


@pytest.fixture
def passenger(demo_app: Flask) -> Iterator[Passenger]:
    """A seated Hongtong worker with a coach, a driver and a welfare-pack handout; the clock
    on the evening before the bus."""
    found = seated_worker(demo_app)
    add_handout(
        demo_app, found.pickup_site_id, found.pickup_at.date(), HANDOUT_PLACE, time(6), time(7)
    )
    with time_machine.travel(before_departure(found), tick=True):
        yield found


def _ask_for_code(page, id_number: str, phone: str) -> None:
    page.goto("/ticket")
    page.get_by_label("身份证号").fill(id_number)
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()


def _english_places(app: Flask, worker_id: int, pickup_zh: str) -> tuple[str, str]:
    """The worker's destination and pickup point by their English names."""
    with app.app_context():
        destination = db.session.get(Worker, worker_id).destination_site.name_en
        pickup = db.session.scalar(select(Site.name_en).filter_by(name_zh=pickup_zh))
        return destination, pickup


def _decoded_qr(page) -> str:
    """The text of the QR code as a phone camera would read it from a screenshot."""
    png = page.locator(".eticket-qr").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, "exactly one QR code on the e-ticket"
    return found[0].text


def test_a_worker_opens_the_ticket_reads_it_scans_its_qr_and_withdraws(
    phone_journey, demo_app, passenger, shot
):
    page = phone_journey
    page.console_watch.allow(r"status of 400")  # the wrong code answers 400, on purpose
    plate, driver_phone = give_coach(demo_app, passenger.trip_id)

    _ask_for_code(page, passenger.id_number, passenger.phone)
    expect(page.locator("h1")).to_have_text("输入验证码")
    expect(page.locator("#code-sent")).to_contain_text("如果身份证号和手机号与报名信息一致")
    expect(page.locator("#code-sent")).to_contain_text(passenger.phone[:3] + "****")
    shot(page, "code-asked")
    code = codes_sent(demo_app, passenger.phone)[-1]  # the SMS, never the page

    page.get_by_label("短信验证码").fill(f"{(int(code) + 1) % 10**6:06d}")
    page.get_by_role("button", name="查看乘车信息").click()
    expect(page.locator("#ticket-error")).to_contain_text("验证码不正确或已失效")
    shot(page, "wrong-code")

    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="查看乘车信息").click()
    expect(page.locator("h1")).to_have_text("我的乘车信息")
    expect(page.locator(".status-badge")).to_have_text("已安排座位")
    day = passenger.pickup_at.date()
    expect(page.locator("#ride-date")).to_contain_text(f"{day.year}年{day.month}月{day.day}日")
    expect(page.locator("#ride-time")).to_have_text(passenger.pickup_at.strftime("%H:%M"))
    expect(page.locator("#ride-pickup")).to_contain_text(passenger.pickup_name)
    expect(page.locator("#ride-pickup")).to_contain_text(passenger.pickup_address)
    expect(page.locator("#ride-bus")).to_have_text(passenger.trip_code)
    expect(page.locator("#ride-seat")).to_have_text(f"{passenger.seat_no}号")
    expect(page.locator("#ride-plate")).to_have_text(plate)
    expect(page.locator("#ride")).to_contain_text("司机电话")
    expect(page.locator("#ride-phone")).to_have_text(driver_phone)
    expect(page.locator("#welfare-place")).to_have_text(HANDOUT_PLACE)
    expect(page.locator("#welfare-time")).to_contain_text("06:00–07:00")
    expect(page.locator("#eticket")).to_contain_text(passenger.name)
    expect(page.locator("#eticket")).to_contain_text(passenger.id_number[-4:])
    expect(page.locator("#eticket")).not_to_contain_text(passenger.id_number)
    shot(page, "ticket")

    qr = page.locator(".eticket-qr svg")
    assert qr.bounding_box()["width"] >= 250  # big enough to scan from a phone screen
    facts = etickets.read_ticket(_decoded_qr(page), demo_app.secret_key)
    assert facts == etickets.TicketFacts(passenger.worker_id, passenger.trip_id, passenger.seat_no)

    # in English the places are named in English (the address stays as written)
    destination, pickup = _english_places(demo_app, passenger.worker_id, passenger.pickup_name)
    page.get_by_role("button", name="English").click()
    expect(page.locator("#ride-destination")).to_have_text(destination)
    expect(page.locator("#ride-pickup")).to_contain_text(pickup)
    expect(page.locator("#ride-pickup")).to_contain_text(passenger.pickup_address)
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("我的乘车信息")

    page.get_by_role("link", name="我无法出行了").click()
    expect(page.locator("#withdraw-confirm")).to_contain_text(f"{passenger.seat_no}号座位")
    shot(page, "withdraw-confirm")
    page.get_by_role("button", name="是的，取消出行").click()
    expect(page.locator(".flash-success")).to_contain_text("座位已释放")
    expect(page.locator(".status-badge")).to_have_text("已取消")
    expect(page.locator("#eticket")).to_have_count(0)  # no ticket for a cancelled seat
    shot(page, "withdrawn")

    page.get_by_role("button", name="退出").click()
    expect(page.locator(".flash-success")).to_contain_text("已退出")
    expect(page.get_by_label("身份证号")).to_have_value("")

    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/trips/{passenger.trip_id}")
    seat = page.locator(f'.seat[data-seat="{passenger.seat_no}"]').first
    expect(seat).to_have_class(re.compile(r"\bfree\b"))
    expect(seat).not_to_contain_text(passenger.name)
    shot(page, "bus-page-seat-free")


def test_a_stranger_gets_the_same_answer_and_no_sms_until_the_limit_answers_429(
    phone_journey, demo_app, passenger, shot
):
    page = phone_journey
    page.console_watch.allow(r"status of 429")  # the refusal, on purpose
    stranger = stranger_id_number(demo_app)
    sent_before = len(demo_app.extensions["sms_gateway"].sent)

    _ask_for_code(page, stranger, passenger.phone)
    expect(page.locator("#code-sent")).to_contain_text("如果身份证号和手机号与报名信息一致")
    expect(page.locator("#code-sent")).to_contain_text(passenger.phone[:3] + "****")
    shot(page, "stranger-answer")
    assert len(demo_app.extensions["sms_gateway"].sent) == sent_before

    with time_machine.travel(utcnow(), tick=True) as clock:
        for _ in range(4):  # 5 codes an hour per number, asked by anybody, a minute apart
            clock.shift(NEXT_CODE)
            _ask_for_code(page, stranger, passenger.phone)
            expect(page.locator("h1")).to_have_text("输入验证码")
        clock.shift(NEXT_CODE)
        _ask_for_code(page, passenger.id_number, passenger.phone)
        expect(page.locator("#ticket-error")).to_contain_text("获取验证码次数过多")
    shot(page, "limit-429")
    assert codes_sent(demo_app, passenger.phone) == []
