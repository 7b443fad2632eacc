"""Late registrants ride the published buses (issue 17 §1), as a county coordinator does it:
the demo is published, three late workers are registered with the form, the plans page plans
again, the draft says they sit on published buses with no new bus, and once published the
bus page shows them in its seats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import make_id_number
from dispatch.models import Driver, OutboundMessage, Plan, SeatAssignment, Trip, Worker, utcnow
from dispatch.services.notices import notices
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.topup import (
    bus_to_empty,
    hongtong_to_wuxi,
    live_trips,
    plan_run,
    publish,
    register,
)

pytestmark = pytest.mark.browser
A_WEEK_BEFORE = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)  # 10:00 in Linfen
LATE = [("郝志刚", 71), ("郝春燕", 72), ("郝建平", 73)]


def _published(app) -> dict[int, tuple[str, int, int | None]]:
    """The demo, with six more 洪洞县 → 无锡 workers, planned and published; its live buses."""
    with app.app_context():
        register(800, 6, earliest_date="2026-03-01", latest_date="2026-03-01")
        publish(app, plan_run(app))
        hongtong_to_wuxi()  # coaches on them: the notices carry the plate
        return live_trips()


def _register(page, name: str, n: int) -> None:
    """The registration form, filled as a coordinator does."""
    page.goto("/workers/")
    page.get_by_role("link", name="登记人员").click()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("身份证号").fill(
        make_id_number("141024", datetime(1990, 5, n - 60).date(), n)
    )
    page.get_by_label("手机号").fill(f"139035870{n:02d}")
    page.get_by_label("户籍县区").select_option(label="洪洞县")
    page.get_by_label("目的地").select_option(label="无锡市")
    page.get_by_label("最早出发日期").fill("2026-02-28")
    page.get_by_label("最晚出发日期").fill("2026-03-02")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url("**/workers/")
    expect(page.locator(".flash-success")).to_contain_text(f"已登记 {name}")


def test_late_registrants_ride_the_published_buses(journey, demo_app, shot):
    with time_machine.travel(A_WEEK_BEFORE, tick=True):
        buses = _published(demo_app)
        page = journey
        log_in(page, "hong", COORD_PASSWORD)
        for name, n in LATE:
            _register(page, name, n)

        page.goto("/plans/")
        form = page.locator("#new-plan")
        form.get_by_label("从").fill("2026-02-28")
        form.get_by_label("至").fill("2026-03-03")
        expect(form.get_by_label("允许调整已安排的工人")).not_to_be_checked()
        shot(page, "plan-again")
        form.get_by_role("button", name="开始编排").click()
        summary = page.locator("#topup-summary")
        expect(summary).to_contain_text("3 人安排到已发布车辆，新增 0 辆车", timeout=60_000)
        expect(page.locator("#plan-status")).to_have_text("草稿")
        expect(page.locator(".live-bus").first).to_have_text("已发布")
        shot(page, "top-up-draft")

        page.locator("#publish").click()
        expect(page.locator("#topup-publish")).to_contain_text("3 人坐上已发布车辆，新增 0 辆车")
        expect(page.locator("#confirm-seated")).to_have_text("3")
        shot(page, "confirm")
        page.locator("#confirm").click()
        expect(page.locator(".flash-success")).to_contain_text("3 人安排到已发布车辆，新增 0 辆车")
        expect(page.locator("#plan-status")).to_have_text("已发布")
        shot(page, "live-plan")

        with demo_app.app_context():
            assert live_trips() == buses  # the published buses kept their ids, codes and coaches
            names = [n for n, _ in LATE]
            late = db.session.scalars(select(Worker).where(Worker.name.in_(names))).all()
            rides = {w.name: _live_trip(w.id) for w in late}
        assert len(rides) == 3 and set(rides.values()) <= set(buses)
        for trip_id in sorted(set(rides.values())):
            page.goto(f"/plans/{buses[trip_id][1]}")
            page.locator(f'tr[data-trip="{buses[trip_id][0]}"]').get_by_role(
                "link", name=buses[trip_id][0], exact=True
            ).click()
            page.wait_for_url(f"**/trips/{trip_id}")
            seatmap = page.locator(".seatmap")
            for name, ride in rides.items():
                if ride == trip_id:
                    expect(seatmap.locator(".seat-name", has_text=name)).to_be_visible()
            shot(page, f"bus-{buses[trip_id][0]}")


def test_a_bus_everyone_moves_off_is_cancelled_and_its_driver_told(journey, demo_app, shot):
    """Planning again with "allow moving seated workers" empties a half-empty published bus;
    the confirmation says it will be cancelled, and the messages page shows the administrator
    its driver's SMS."""
    with time_machine.travel(A_WEEK_BEFORE, tick=True):
        _published(demo_app)
        with demo_app.app_context():
            _, twin = bus_to_empty()
            twin.driver1 = Driver(name="郭师傅", phone="+8613900000021")
            db.session.flush()
            notices.schedule_driver_notices(twin, utcnow(), demo_app.config)
            for row in db.session.scalars(select(OutboundMessage).filter_by(trip_id=twin.id)):
                row.status = "sent"  # the tick sent the driver's notice
            db.session.commit()
        page = journey
        log_in(page, "hong", COORD_PASSWORD)
        page.goto("/plans/")
        form = page.locator("#new-plan")
        form.get_by_label("从").fill("2026-02-28")
        form.get_by_label("至").fill("2026-03-03")
        form.get_by_label("允许调整已安排的工人").check()
        form.get_by_role("button", name="开始编排").click()
        summary = page.locator("#topup-summary")
        expect(summary).to_contain_text("调整已安排人员", timeout=60_000)

        page.locator("#publish").click()
        warning = page.locator("#topup-cancels")
        expect(warning).to_contain_text("T99")
        expect(warning).to_contain_text("已收到出车通知的司机会收到停止出车的短信")
        shot(page, "confirm-cancels")
        page.locator("#confirm").click()
        flash = page.locator(".flash-success")
        expect(flash).to_contain_text("已取消（车上已无乘客）：T99")

        # drivers' messages belong to no county: the bureau's administrator watches them
        page.get_by_role("button", name="退出", exact=True).click()
        log_in(page, "admin", ADMIN_PASSWORD)
        page.goto("/messages/")
        page.get_by_label("类型").select_option(label="出车取消通知")
        page.get_by_role("button", name="筛选").click()
        row = page.locator("tr", has=page.locator(".sms-body", has_text="无需出车"))
        expect(row).to_have_count(1)
        expect(row).to_contain_text("驾驶员 139****0021")
        expect(row.locator(".sms-body")).to_contain_text("的T99次车已取消，无需出车")
        expect(row).to_contain_text("出车取消通知")
        shot(page, "driver-cancel-sms")


def _live_trip(worker_id: int) -> int:
    """The published bus a worker sits on."""
    return db.session.scalar(
        select(Trip.id)
        .join(SeatAssignment, SeatAssignment.trip_id == Trip.id)
        .join(Plan, Plan.id == Trip.plan_id)
        .where(SeatAssignment.worker_id == worker_id, Plan.status == "published")
    )
