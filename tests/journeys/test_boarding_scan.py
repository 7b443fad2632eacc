"""QR boarding in real Chromium with a fake camera that shows a worker's e-ticket: the driver
taps "扫码登车" on the check-in page, the phone reads the code, and the passenger is boarded
once; wrong bus, cancelled seat and a second scan are flagged; offline scans wait and go once."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import count

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import BoardingScan, Worker
from dispatch.services.workers import withdraw_worker
from tests.support.browser import CHROMIUM, record_form_posts
from tests.support.camera import camera_args, write_y4m
from tests.support.gate import boarded_count, scan_bus
from tests.support.published import check_in_time

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
OFFLINE_ERRORS = r"ERR_INTERNET_DISCONNECTED|Failed to fetch"


@pytest.fixture
def camera_phone(chromium, published_server, tmp_path, watched_pages) -> Callable:
    """``camera_phone(text)``: a 390×844 page on a Chromium whose rear camera shows ``text``'s
    QR code; its console must stay free of errors (those a test allows aside)."""
    videos = count()

    def open_phone(text: str):
        video = write_y4m(tmp_path / f"camera-{next(videos)}.y4m", text)
        browser = chromium.browser_type.launch(
            executable_path=CHROMIUM, args=[*BASE_ARGS, *camera_args(video)]
        )
        record_form_posts(browser)
        context = browser.new_context(
            locale="zh-CN", base_url=published_server.url, permissions=["camera"], **PHONE
        )
        return watched_pages(context.new_page(), browser)

    return open_phone


def _outcomes(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(BoardingScan.outcome).order_by(BoardingScan.id)))


def _scan(page) -> None:
    page.get_by_role("button", name="扫码登车").click()


def test_a_ticket_shown_to_the_camera_boards_its_passenger_and_a_second_scan_is_flagged(
    published_app, camera_phone, shot
):
    bus = scan_bus(published_app)
    with time_machine.travel(check_in_time(published_app, bus["trip_id"])):
        page = camera_phone(bus["ticket"])
        page.goto(bus["url"])
        boarded = page.locator('#progress [data-count="boarded"]')
        expect(boarded).to_have_text("0")
        shot(page, "check-in page with the scan button")
        _scan(page)
        result = page.locator("#scan-result")
        expect(result).to_contain_text(f"已登车：{bus['name']}，{bus['seat']}号座")
        expect(result).to_have_class(re.compile(r"\bok\b"))
        expect(page.locator(f'tr[data-worker="{bus["worker"]}"]')).to_have_class(
            re.compile("is-boarded")
        )
        expect(boarded).to_have_text("1")
        page.wait_for_timeout(1500)  # the code stays in front of the camera: read once only
        shot(page, "boarded by scan")
        assert _outcomes(published_app) == ["boarded"]

        page.get_by_role("button", name="停止扫码").click()
        _scan(page)  # the same ticket shown again
        expect(result).to_contain_text("已登车，请勿重复扫码")
        expect(result).to_have_class(re.compile(r"\bbad\b"))
        expect(boarded).to_have_text("1")
        shot(page, "second scan flagged")
    assert _outcomes(published_app) == ["boarded", "duplicate"]
    assert boarded_count(published_app, bus["trip_id"]) == 1


def test_a_ticket_for_another_bus_or_a_cancelled_seat_is_flagged_and_not_counted(
    published_app, camera_phone, shot
):
    bus = scan_bus(published_app)
    with published_app.app_context():
        withdraw_worker(db.session.get(Worker, bus["second"]), None)
        db.session.commit()
    with time_machine.travel(check_in_time(published_app, bus["trip_id"])):
        page = camera_phone(bus["other_ticket"])
        page.goto(bus["url"])
        _scan(page)
        result = page.locator("#scan-result")
        expect(result).to_contain_text(f"不是本车乘客：应乘{bus['other_code']}")
        expect(result).to_have_class(re.compile(r"\bbad\b"))
        expect(page.locator('#progress [data-count="boarded"]')).to_have_text("0")
        shot(page, "wrong bus")

        page = camera_phone(bus["second_ticket"])
        page.goto(bus["url"])
        _scan(page)
        result = page.locator("#scan-result")
        expect(result).to_contain_text("该座位已取消")
        expect(result).to_have_class(re.compile(r"\bbad\b"))
        shot(page, "cancelled seat")
    assert _outcomes(published_app) == ["wrong_bus", "cancelled"]
    assert boarded_count(published_app, bus["trip_id"]) == 0


def test_a_scan_made_offline_waits_and_is_sent_once_when_the_network_returns(
    published_app, camera_phone, shot
):
    bus = scan_bus(published_app)
    with time_machine.travel(check_in_time(published_app, bus["trip_id"])):
        page = camera_phone(bus["ticket"])
        page.console_watch.allow(OFFLINE_ERRORS)
        page.goto(bus["url"])
        page.context.set_offline(True)
        _scan(page)
        expect(page.locator("#scan-queue")).to_have_text("1 条待上传")
        expect(page.locator("#scan-result")).to_contain_text("无网络")
        shot(page, "offline scan waiting")
        assert boarded_count(published_app, bus["trip_id"]) == 0

        page.context.set_offline(False)
        expect(page.locator("#scan-result")).to_contain_text(f"已登车：{bus['name']}")
        expect(page.locator("#scan-queue")).to_be_hidden()
        expect(page.locator('#progress [data-count="boarded"]')).to_have_text("1")
        shot(page, "uploaded when back online")
        with published_app.app_context():
            uid = db.session.scalars(select(BoardingScan.scan_uid)).one()
        # the same scan sent again (its first answer lost on the way back): answered the same
        replay = page.request.post(
            f"{bus['url']}/scans", data={"scan_uid": uid, "text": bus["ticket"]}
        ).json()
        assert replay["outcome"] == "boarded" and replay["replay"] is True
        assert replay["counts"]["boarded"] == 1
    assert _outcomes(published_app) == ["boarded"]
    assert boarded_count(published_app, bus["trip_id"]) == 1
