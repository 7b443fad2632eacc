"""Arrival at the factory gate in real Chromium: the driver, on the phone, hands the workers of a
drop-off stop over (one left out, then the count corrected), opens the hand-over list; each
worker gets one arrival SMS; the coordinator sees the arrival on the bus page, the boarding
page and the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import mask_id_number
from dispatch.models import OutboundMessage, Site, Trip, TripStop, Worker
from dispatch.services import arrival, manifest
from tests.support.apps import ADMIN_PASSWORD
from tests.support.browser import log_in
from tests.support.published import busiest_trip, check_in_time, driver_token

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def pages(chromium, published_server, watched_pages) -> Callable:
    """``pages(**options)``: a zh-CN page on the live server; no console errors allowed."""

    def open_page(**options):
        context = chromium.new_context(locale="zh-CN", base_url=published_server.url, **options)
        return watched_pages(context.new_page(), context)

    return open_page


def _boarded_bus(app: Flask) -> dict:
    """The busiest bus with everyone boarded; its first drop-off stop's employer has a contact."""
    trip_id = busiest_trip(app)
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        for seat in trip.seats:
            manifest.set_mark(
                trip,
                seat.worker_id,
                "attendance",
                "boarded",
                check_in_time(app, trip_id),
                None,
                "t",
            )
        stop = arrival.dropoffs(trip)[0]
        # the stop carries the longest English name of any site, whichever the plan gave it: the
        # boarding page's "At the gate" cell must fit 1280 px with it
        longest = max(db.session.scalars(select(Site.name_en)), key=len)
        stop.site.name_en = longest
        leaving = sorted(
            (s for s in trip.seats if arrival.stop_of(trip, s) is stop), key=lambda s: s.seat_no
        )
        for seat in leaving:
            if seat.worker.employer is not None:
                seat.worker.employer.contact_name = "王经理"
                seat.worker.employer.contact_phone = "+8613912345678"
        db.session.commit()
        return {
            "trip_id": trip_id,
            "day": trip.date,
            "url": f"/m/{driver_token(app, trip_id)}",
            "stop": stop.id,
            "stop_name": stop.site.name_zh,
            "leaving": [s.worker_id for s in leaving],
            "last_name": leaving[-1].worker.name,
            "ids": [s.worker.id_number for s in leaving],
            "boarded": len(trip.seats),
            "after": trip.departure_at + timedelta(hours=14),
        }


def test_the_driver_hands_workers_over_at_the_gate_and_the_coordinator_sees_it(
    published_app, pages, shot
):
    bus = _boarded_bus(published_app)
    n = len(bus["leaving"])
    with time_machine.travel(bus["after"]):
        page = pages(**PHONE)
        page.goto(bus["url"])
        stop = page.locator(f"#stop-{bus['stop']}")
        stop.scroll_into_view_if_needed()
        expect(stop.locator(".handover-count")).to_have_text(str(n))
        shot(page, "driver before arrival")
        stop.locator(f'input[value="{bus["leaving"][-1]}"]').uncheck()  # not handed over
        expect(stop.locator(".handover-count")).to_have_text(str(n - 1))
        stop.get_by_role("button", name="已到达").click()
        answer = page.locator(f"#stop-{bus['stop']} .stop-answer")  # where the driver tapped
        expect(answer).to_contain_text(f"已记录到达{bus['stop_name']}：交接 {n - 1} 人")
        stop = page.locator(f"#stop-{bus['stop']}")
        expect(stop.locator(".arrived-at")).to_contain_text(f"已交接 {n - 1} 人")
        expect(stop.locator(".warn-line")).to_be_visible()
        shot(page, "arrived one short")

        stop.locator(f'input[value="{bus["leaving"][-1]}"]').check()  # found at the gate after all
        stop.get_by_role("button", name="更正交接").click()
        expect(answer).to_contain_text(f"交接 {n} 人")
        stop = page.locator(f"#stop-{bus['stop']}")
        expect(stop.locator(".arrived-at")).to_contain_text(f"本站登车 {n} 人，已交接 {n} 人")
        expect(stop.locator(".warn-line")).to_have_count(0)

        stop.get_by_role("link", name="交接单").click()
        expect(page.locator("h1").first).to_have_text("交接单")
        expect(page.locator(".total")).to_have_text(f"本站交接合计：{n} 人")
        text = page.locator("body").inner_text()
        assert all(mask_id_number(i) in text and i not in text for i in bus["ids"])
        assert bus["last_name"] in text
        shot(page, "hand-over list")

        desk = pages(viewport={"width": 1280, "height": 900})
        log_in(desk, "admin", ADMIN_PASSWORD)
        desk.goto(f"/trips/{bus['trip_id']}")
        summary = desk.locator("#arrival-summary")
        expect(summary).to_contain_text(f"登车 {bus['boarded']} 人，已交接 {n} 人")
        expect(
            summary.locator(f'tr[data-stop="{bus["stop"]}"] [data-field="handed-over"]')
        ).to_have_text(str(n))
        summary.scroll_into_view_if_needed()
        shot(desk, "bus page arrival")
        desk.goto(f"/boarding?date={bus['day']}")
        row = desk.locator(f'tr[data-trip="{bus["trip_id"]}"]')
        expect(row.locator('[data-field="arrived"]')).to_have_text(str(n))
        expect(row.locator(".arrivals-cell")).to_contain_text(f"{n}/{n}")
        # every column in view at 1280 px, in Chinese and in English (longer headings): nothing
        # to scroll sideways for, the manifest at hand
        wrap = desk.locator(".table-wrap").filter(has=desk.locator("#boarding"))
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
        expect(row.get_by_role("link", name="乘车名单")).to_be_in_viewport()
        shot(desk, "boarding page arrived")
        with desk.expect_navigation():
            desk.get_by_role("button", name="English", exact=True).click()
        expect(desk.locator("#boarding thead")).to_contain_text("Packs handed out")
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
        expect(row.get_by_role("link", name="Manifest")).to_be_in_viewport()
        shot(desk, "boarding page in English")
        with desk.expect_navigation():
            desk.get_by_role("button", name="中文", exact=True).click()
        desk.goto("/")
        arrived = int(desk.locator('[data-stage="arrived"]').inner_text())
        assert arrived >= n
        shot(desk, "dashboard arrived")
    with published_app.app_context():
        row = db.session.get(TripStop, bus["stop"])
        assert row.handed_over == n and row.arrived_at is not None
        sms = db.session.scalars(select(OutboundMessage).filter_by(kind="arrival")).all()
        assert sorted(m.worker_id for m in sms) == sorted(bus["leaving"])  # one each, not two
        statuses = {db.session.get(Worker, w).status for w in bus["leaving"]}
        assert statuses == {"arrived"}
        with_contact = [m for m in sms if "王经理" in m.body]
        assert all("13912345678" in m.body for m in with_contact)


def _refused_at_the_stop(page, stop_id: int, words: str) -> None:
    """Tap 已到达 at the stop: the refusal, ``words``, shows there, where the driver looks."""
    stop = page.locator(f"#stop-{stop_id}")
    stop.scroll_into_view_if_needed()
    stop.get_by_role("button", name="已到达").click()
    answer = page.locator(f"#stop-{stop_id} .stop-answer")
    expect(answer).to_contain_text(words)
    expect(answer).to_be_in_viewport()


def test_arrived_tapped_before_the_bus_left_is_refused_where_the_driver_tapped(
    published_app, pages, shot
):
    """The refusal was written at the top of the page while the phone showed the stop: the
    driver saw nothing happen."""
    bus = _boarded_bus(published_app)
    with time_machine.travel(bus["after"] - timedelta(hours=15)):  # an hour before it leaves
        page = pages(**PHONE)
        page.goto(bus["url"])
        _refused_at_the_stop(page, bus["stop"], "尚未发车")
        shot(page, "refused at the stop")
    # Twenty minutes out, 1,000 km short: a tap on the wrong stop, refused with when it is due
    with time_machine.travel(bus["after"] - timedelta(hours=14) + timedelta(minutes=20)):
        page.reload()
        _refused_at_the_stop(page, bus["stop"], "到达这一站：请到站后再确认到达")
        shot(page, "refused twenty minutes out")
    with published_app.app_context():
        assert db.session.get(TripStop, bus["stop"]).arrived_at is None
