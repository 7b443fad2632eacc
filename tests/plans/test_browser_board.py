"""The dispatch board in real Chromium: plan, open a bus, seat, swap, lock; two coordinators race."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip
from tests.support.apps import ADMIN_PASSWORD, make_app, seed_demo, start_planning_worker
from tests.support.browser import LiveServer

pytestmark = pytest.mark.browser


def _login(page) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


def _plan(page) -> None:
    page.goto("/plans/")
    page.locator("#f-from").fill("2026-02-28")
    page.locator("#f-to").fill("2026-03-03")
    page.locator("#f-limit").fill("2")
    page.locator("#new-plan button[type=submit]").click()
    page.locator("#plan-buses").wait_for(timeout=60_000)  # the page refreshes itself until done


def test_plan_then_swap_and_lock_on_the_seat_map(page, demo_app):
    _login(page)
    _plan(page)
    page.locator("table.trips a").first.click()
    trip_id = int(page.url.rstrip("/").split("/")[-1])
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        a, b = trip.seats[0], trip.seats[1]
        first, second = (a.seat_no, a.worker_id), (b.seat_no, b.worker_id)
    page.locator("#typed-forms summary").click()  # the typed forms, behind the clickable seat map
    page.locator("#f-seat2").fill(str(first[0]))
    page.locator("#f-other").fill(str(second[0]))
    page.locator("#seat-form button[value=swap]").click()
    page.wait_for_load_state()
    with demo_app.app_context():
        seats = {
            s.worker_id: s.seat_no
            for s in db.session.scalars(select(SeatAssignment).filter_by(trip_id=trip_id))
        }
        assert seats[first[1]] == second[0] and seats[second[1]] == first[0]
    page.locator("#lock-trip").click()
    page.locator("#trip-locked").wait_for()
    with demo_app.app_context():
        assert db.session.get(Trip, trip_id).locked


@pytest.fixture(params=["sqlite", "postgres"])
def racing_app(request, tmp_path):
    """The demo on SQLite, and the same demo on a throwaway PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("demo_app")
        return
    request.applymarker(pytest.mark.postgres)
    app = make_app(tmp_path, request.getfixturevalue("pg_url"))
    with app.app_context():
        seed_demo()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_two_coordinators_race_for_one_seat(chromium, racing_app):
    worker = start_planning_worker(racing_app)
    server = LiveServer(racing_app)
    try:
        _race(chromium, server.url, racing_app)
    finally:
        server.stop()
        worker.stop()


def _race(chromium, url, demo_app):
    contexts = [chromium.new_context(locale="zh-CN", base_url=url) for _ in range(2)]
    pages = [c.new_page() for c in contexts]
    for p in pages:
        _login(p)
    _plan(pages[0])
    with demo_app.app_context():
        trip = db.session.scalars(select(Trip).order_by(Trip.id)).first()
        taken = {s.seat_no for s in trip.seats}
        free = next(n for n in range(1, trip.coach_type.passenger_seats + 1) if n not in taken)
        trip_id = trip.id
    for p in pages:
        p.goto(f"/trips/{trip_id}")
    for i, p in enumerate(pages):  # each picks a different worker already on the bus
        p.locator("#typed-forms summary").click()
        option = p.locator("#grp-here option").nth(i)
        p.locator("#f-worker").select_option(option.get_attribute("value"))
        p.locator("#f-seat").fill(str(free))
    pages[0].locator("#place-form button[type=submit]").click()
    pages[0].wait_for_load_state()
    response = pages[1].locator("#place-form button[type=submit]")
    with pages[1].expect_response(lambda r: r.request.method == "POST") as info:
        response.click()
    assert info.value.status == 409
    assert "已被他人修改" in pages[1].locator(".flash-error").inner_text()
    with demo_app.app_context():
        rows = db.session.scalars(
            select(SeatAssignment).filter_by(trip_id=trip_id, seat_no=free)
        ).all()
        assert len(rows) == 1
    for c in contexts:
        c.close()


def test_move_a_worker_to_a_free_seat_then_lock_and_plan_again(page, demo_app):
    _login(page)
    _plan(page)
    with demo_app.app_context():
        from dispatch.models import Plan

        plan = db.session.scalars(select(Plan)).one()
        target = next(t for t in plan.trips if len(t.seats) < t.coach_type.passenger_seats)
        taken = {s.seat_no for s in target.seats}
        free = max(n for n in range(1, target.coach_type.passenger_seats + 1) if n not in taken)
        target_id, worker_id, plan_id = target.id, target.seats[0].worker_id, plan.id
    page.goto(f"/trips/{target_id}")
    page.locator("#typed-forms summary").click()
    page.locator("#f-worker").select_option(str(worker_id))
    page.locator("#f-seat").fill(str(free))
    page.locator("#place-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(f'.seat[data-seat="{free}"] .seat-name').inner_text()
    with demo_app.app_context():
        seat = db.session.scalar(
            select(SeatAssignment).filter_by(worker_id=worker_id, plan_id=plan_id)
        )
        assert (seat.trip_id, seat.seat_no) == (target_id, free)
    page.locator("#lock-trip").click()
    page.locator("#trip-locked").wait_for()
    with demo_app.app_context():
        locked_seats = {s.worker_id: s.seat_no for s in db.session.get(Trip, target_id).seats}
        code = db.session.get(Trip, target_id).code
    page.goto(f"/plans/{plan_id}")
    page.locator("#replan").click()
    page.locator("#plan-buses").wait_for(timeout=60_000)
    with demo_app.app_context():
        newest = db.session.scalars(select(Plan).order_by(Plan.id.desc())).first()
        assert newest.id != plan_id and db.session.get(Plan, plan_id).status == "superseded"
        kept = next(t for t in newest.trips if t.code == code)
        assert kept.locked and {s.worker_id: s.seat_no for s in kept.seats} == locked_seats
