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


def test_a_plan_of_many_buses_shows_one_day_at_a_time(journey, shot, demo_app):
    """Past PLAN_PAGE_BUSES (a season's 2,000 buses took 3 s and 3 MB as one page) the plan page
    lists one day: the days to pick from with their buses, the first day's table and map; a click
    on another day shows that day's instead; the totals stay the plan's."""
    page = journey
    plan_id, names, _ = _planned_demo(demo_app)
    with demo_app.app_context():
        trips = plan_queries.plan_trips(db.session.get(Plan, plan_id), stops=False)
        per_day = {day: sum(t.date == day for t in trips) for day in names}
    first, second = sorted(per_day)
    demo_app.config["PLAN_PAGE_BUSES"] = len(trips) - 1
    log_in(page, "city", COORD_PASSWORD)
    page.goto(f"/plans/{plan_id}")
    days = page.locator("#day-pages")
    expect(days).to_contain_text(f"共 {len(trips)} 辆车、{len(per_day)} 天")
    for day, n in per_day.items():
        expect(days.locator("li").filter(has_text=day.isoformat())).to_contain_text(f"车辆：{n}")
    expect(days.get_by_role("link", name=first.isoformat())).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator("#plan-buses")).to_have_text(str(len(trips)))
    expect(page.locator("#sms-estimate")).to_have_count(0)  # counted on the confirmation page
    expect(page.locator("table.trips tbody tr")).to_have_count(per_day[first])
    expect(page.locator(f"#day-map-{first.isoformat()}")).to_be_visible()
    expect(page.locator(f"#day-map-{second.isoformat()}")).to_have_count(0)
    shot(page, "first day")

    days.get_by_role("link", name=second.isoformat()).click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?day={second.isoformat()}")
    expect(page.locator("table.trips tbody tr")).to_have_count(per_day[second])
    shown = _texts(page, f"#day-map-{second.isoformat()}")
    assert all(name in shown for name in names[second]), (names[second], shown)
    expect(page.locator(f"#day-map-{first.isoformat()}")).to_have_count(0)
    expect(
        page.locator("#day-pages").get_by_role("link", name=second.isoformat())
    ).to_have_attribute("aria-current", "page")
    expect(page.locator("#plan-buses")).to_have_text(str(len(trips)))
    shot(page, "second day")

    page.goto(f"/plans/{plan_id}?day=2026-13-45")  # a mangled address: the first day
    expect(page.locator("table.trips tbody tr")).to_have_count(per_day[first])
    demo_app.config["PLAN_PAGE_BUSES"] = len(trips)  # at the limit: every day on one page
    page.goto(f"/plans/{plan_id}")
    expect(page.locator("#day-pages")).to_have_count(0)
    expect(page.locator("table.trips tbody tr")).to_have_count(len(trips))
    expect(page.locator("#sms-estimate")).to_be_visible()
