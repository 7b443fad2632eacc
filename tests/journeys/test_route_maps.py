"""Route maps as a coordinator sees them: a day's buses on the plan page, one bus's route
with its stops and times on the bus page, on screen and in print."""

from __future__ import annotations

from datetime import date, time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import County, Plan
from dispatch.services import accounts, plan_queries, planning
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)


def _planned_demo(app) -> tuple[int, dict[date, set[str]], tuple[int, str, list[str]]]:
    """The demo planned by a city coordinator: the plan, each day's stop names, one bus."""
    with app.app_context():
        everyone = list(db.session.scalars(select(County.id)))
        accounts.create_user("city", "coordinator", COORD_PASSWORD, everyone, "市级调度员")
        plan = planning.start_plan(planning.Scope(DAY1, DAY2), None, time_limit_s=1)
        planning.store_result(plan, planning.solve_plan(plan, 1), time(8, 0), "Asia/Shanghai")
        db.session.commit()
        trips = plan_queries.plan_trips(db.session.get(Plan, plan.id))
        names: dict[date, set[str]] = {}
        for trip in trips:
            names.setdefault(trip.date, set()).update(s.site.name_zh for s in trip.stops)
        first = trips[0]
        return plan.id, names, (first.id, first.code, [s.site.name_zh for s in first.stops])


def _texts(page, selector: str) -> str:
    return " ".join(page.locator(f"{selector} svg text").all_text_contents())


def test_plan_and_bus_pages_draw_their_routes_with_the_stops_named(journey, shot, demo_app):
    page = journey
    plan_id, names, (trip_id, code, stops) = _planned_demo(demo_app)
    assert names, "the demo plans some buses"
    log_in(page, "city", COORD_PASSWORD)
    page.goto(f"/plans/{plan_id}")
    for day, day_names in names.items():
        figure = page.locator(f"#day-map-{day.isoformat()}")
        expect(figure).to_be_visible()
        expect(figure.locator("svg[role=img]")).to_have_attribute("aria-label", f"{day} 的车辆地图")
        shown = _texts(page, f"#day-map-{day.isoformat()}")
        assert all(name in shown for name in day_names), (day_names, shown)
    page.locator(f"#day-map-{min(names).isoformat()}").scroll_into_view_if_needed()
    shot(page, "day-map")

    page.goto(f"/trips/{trip_id}")
    bus = page.locator("#bus-map")
    expect(bus).to_be_visible()
    shown = _texts(page, "#bus-map")
    assert all(name in shown for name in stops), (stops, shown)
    assert code in shown
    assert bus.locator("svg .stop-dot").count() == len(stops)
    bus.scroll_into_view_if_needed()
    shot(page, "bus-map")
    page.emulate_media(media="print")
    expect(bus).to_be_visible()
    shot(page, "bus-map print")
