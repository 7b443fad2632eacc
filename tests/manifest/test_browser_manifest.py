"""Manifests in a real Chromium: a full bus printed to A4 PDF, check-in on a phone, live boarding."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip
from dispatch.services import driver_links
from tests.support.apps import ADMIN_PASSWORD
from tests.support.browser import LiveServer
from tests.support.pdf import pages_text
from tests.support.published import busiest_trip, check_in_time

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture
def server(published_app: Flask) -> Iterator[LiveServer]:
    published_app.config["BOARDING_REFRESH_S"] = 1
    live = LiveServer(published_app)
    yield live
    live.stop()


def _context(chromium, server: LiveServer, **options):
    context = chromium.new_context(locale="zh-CN", base_url=server.url, **options)
    context.set_default_timeout(15_000)
    return context


def _log_in(page) -> None:
    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def _check_printed(texts: list[str], secrets: list[tuple[str, str]], code: str) -> None:
    assert 1 <= len(texts) <= 2, f"{len(texts)} pages"
    whole = "\n".join(texts)
    for number, text in enumerate(texts, start=1):
        assert "身份证号" in text and "签名" in text, f"column headers missing on page {number}"
        assert f"乘车名单 {code}" in text, f"running title missing on page {number}"
        assert f"第 {number} 页，共 {len(texts)} 页" in text
    assert "打印" not in whole and "司机链接" not in whole  # no screen navigation in print
    for id_number, phone in secrets:
        assert id_number not in whole and phone not in whole
        assert id_number[:4] + "*" * 10 + id_number[-4:] in whole


def test_a_full_51_seat_bus_prints_on_two_a4_pages_with_headers_and_nothing_unmasked(
    chromium, server, published_app, full_bus
):
    with published_app.app_context():
        trip = db.session.get(Trip, full_bus)
        secrets = [(s.worker.id_number, s.worker.phone.removeprefix("+86")) for s in trip.seats]
        code = trip.code
    context = _context(chromium, server)
    page = context.new_page()
    _log_in(page)
    page.goto(f"/trips/{full_bus}/manifest")
    page.emulate_media(media="print")
    texts = pages_text(page.pdf(prefer_css_page_size=True))
    assert len(texts) == 2  # 51 passengers: more than one page, and at most two
    _check_printed(texts, secrets, code)
    exported = page.request.get(f"/trips/{full_bus}/manifest.pdf")  # the server's own Chromium
    assert exported.ok and exported.headers["content-type"] == "application/pdf"
    _check_printed(pages_text(exported.body()), secrets, code)
    context.close()


def test_check_in_on_a_phone_marks_each_passenger_and_retries_what_failed(
    chromium, server, published_app
):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        token = driver_links.token_for(trip, published_app.secret_key)
        first, second = trip.seats[0].worker_id, trip.seats[1].worker_id
    context = _context(chromium, server, **PHONE)
    page = context.new_page()
    with time_machine.travel(check_in_time(published_app, trip_id)):
        page.goto(f"/m/{token}")
        board = page.locator(f'tr[data-worker="{first}"] button[data-mark="boarded"]')
        box = board.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44  # a thumb can hit it
        board.tap()
        page.wait_for_selector(f'tr[data-worker="{first}"].is-boarded')
        expect(page.locator('[data-count="boarded"]').first).to_have_text("1")  # the server's count

        failures = {"left": 2}

        def flaky(route):
            if failures["left"]:
                failures["left"] -= 1
                route.abort("internetdisconnected")
            else:
                route.continue_()

        page.route("**/marks", flaky)
        pack = page.locator(f'tr[data-worker="{second}"] button[data-mark="pack"]')
        pack.tap()
        page.wait_for_selector(f'tr[data-worker="{second}"] button[data-mark="pack"].retrying')
        assert "重试" in page.locator("#sync-status").inner_text()
        page.wait_for_selector(
            f'tr[data-worker="{second}"] button[data-mark="pack"]:not(.retrying):not(.pending)'
        )
        assert pack.get_attribute("aria-pressed") == "true"
        assert failures["left"] == 0
        expect(page.locator("#sync-status")).to_contain_text("已保存")
    context.close()
    with published_app.app_context():
        seats = {
            s.worker_id: s
            for s in db.session.scalars(select(SeatAssignment).filter_by(trip_id=trip_id))
        }
        assert seats[first].boarded_at is not None and seats[first].worker.status == "boarded"
        assert seats[second].pack_given_at is not None and seats[second].boarded_at is None


def test_the_boarding_page_follows_marks_as_they_happen(chromium, server, published_app):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        day, token = trip.date, driver_links.token_for(trip, published_app.secret_key)
        absent = trip.seats[2]
        absent_id, absent_name = absent.worker_id, absent.worker.name
    context = _context(chromium, server)
    page = context.new_page()
    with time_machine.travel(check_in_time(published_app, trip_id)):
        _log_in(page)
        page.goto(f"/boarding?date={day}")
        row = page.locator(f'tr[data-trip="{trip_id}"]')
        assert row.locator('[data-field="no_show"]').inner_text() == "0"
        driver = chromium.new_context(base_url=server.url)  # the driver, elsewhere, marks a no-show
        marked = driver.request.post(
            f"/m/{token}/marks", data={"worker_id": absent_id, "mark": "no_show", "value": True}
        )
        assert marked.ok
        driver.close()
        expect(row.locator('[data-field="no_show"]')).to_have_text(
            "1"
        )  # refreshed without a reload
        expect(page.locator("#no-show-list")).to_contain_text(absent_name)
    context.close()


def _seats(app, trip_id: int) -> dict[int, SeatAssignment]:
    with app.app_context():
        return {
            s.worker_id: s
            for s in db.session.scalars(select(SeatAssignment).filter_by(trip_id=trip_id))
        }


def _driver_page(chromium, server, app):
    trip_id = busiest_trip(app)
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        token = driver_links.token_for(trip, app.secret_key)
        workers = [s.worker_id for s in trip.seats[:3]]
    context = _context(chromium, server, **PHONE)
    page = context.new_page()
    page.goto(f"/m/{token}")
    return context, page, trip_id, workers


def test_a_late_retry_never_undoes_a_later_tap(chromium, server, published_app):
    with time_machine.travel(check_in_time(published_app, busiest_trip(published_app))):
        context, page, trip_id, (worker, *_) = _driver_page(chromium, server, published_app)
        calls = []

        def first_fails(route):
            calls.append(route.request.post_data_json)
            route.abort("internetdisconnected") if len(calls) == 1 else route.continue_()

        page.route("**/marks", first_fails)
        row = page.locator(f'tr[data-worker="{worker}"]')
        row.locator('button[data-mark="boarded"]').tap()  # fails, a retry is due in a second
        expect(row.locator('button[data-mark="boarded"].retrying')).to_be_visible()
        row.locator('button[data-mark="no_show"]').tap()  # the driver changes their mind
        expect(row).to_have_class(re.compile("is-no-show"))
        expect(page.locator("#sync-status")).to_contain_text("已保存")
        page.wait_for_timeout(2500)  # long past the retry that was due
        assert [c["value"] for c in calls] == ["boarded", "no_show"]
        context.close()
    seat = _seats(published_app, trip_id)[worker]
    assert seat.no_show_at is not None and seat.boarded_at is None


def test_an_answer_lost_on_the_way_back_does_not_hide_an_undo(chromium, server, published_app):
    with time_machine.travel(check_in_time(published_app, busiest_trip(published_app))):
        context, page, trip_id, (_, worker, _) = _driver_page(chromium, server, published_app)
        lost = {"left": 1}

        def answer_lost(route):
            if lost["left"]:
                lost["left"] -= 1
                route.fetch()  # the server records the pack…
                route.abort("connectionreset")  # …and the phone never hears back
            else:
                route.continue_()

        page.route("**/marks", answer_lost)
        pack = page.locator(f'tr[data-worker="{worker}"] button[data-mark="pack"]')
        pack.tap()
        expect(
            page.locator(f'tr[data-worker="{worker}"] button[data-mark="pack"].retrying')
        ).to_be_visible()
        assert _seats(published_app, trip_id)[worker].pack_given_at is not None
        page.locator(
            f'tr[data-worker="{worker}"] button[data-undo="pack"]'
        ).tap()  # taken back before the retry
        expect(pack).to_have_attribute("aria-pressed", "false")
        expect(page.locator("#sync-status")).to_contain_text("已保存")
        context.close()
    assert _seats(published_app, trip_id)[worker].pack_given_at is None


def test_a_coordinator_signed_out_is_told_and_the_mark_is_kept_for_later(
    chromium, server, published_app
):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        worker = db.session.get(Trip, trip_id).seats[0].worker_id
    with time_machine.travel(check_in_time(published_app, trip_id)):
        context = _context(chromium, server)
        page = context.new_page()
        _log_in(page)
        page.goto(f"/trips/{trip_id}/manifest")
        # A permanent session's cookie is refreshed by every answer: let the page's own requests
        # (scripts, icon) finish first, or one of them brings the cookie back.
        page.wait_for_load_state("networkidle")
        context.clear_cookies()  # the session is gone (expired, or another network on the phone)
        page.locator(f'tr[data-worker="{worker}"] button[data-mark="boarded"]').click()
        expect(page.locator("#sync-status")).to_contain_text("退出登录")
        assert _seats(published_app, trip_id)[worker].boarded_at is None
        _log_in(page)
        page.goto(f"/trips/{trip_id}/manifest")  # the kept mark is sent once the page is back
        expect(page.locator("#sync-status")).to_contain_text("已保存")
        context.close()
    assert _seats(published_app, trip_id)[worker].boarded_at is not None
