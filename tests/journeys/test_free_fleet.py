"""A county coordinator plans the morning after a published bus to Kunshan left with one of the
bureau's two coaches: the plan carries one bus, names the rest unserved for want of a free coach
and says how many coaches are missing; the crew form then offers only the coach and the drivers
that are free, never a deactivated driver."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models import Trip
from tests.support.apps import base_config, make_app
from tests.support.browser import log_in
from tests.support.fleet import (
    ADMIN_PASSWORD,
    COORD_PASSWORD,
    add_coach,
    add_driver,
    add_plan,
    add_trip,
    fresh_deployment,
)
from tests.support.workers import id_number

pytestmark = pytest.mark.browser
SOON = date.today() + timedelta(days=20)  # the published bus leaves then
NEXT = SOON + timedelta(days=1)  # the morning planned: its coach and drivers are still away


@pytest.fixture(scope="module")
def fleet_template(tmp_path_factory) -> Path:
    """`reference load`, two 53-seat coaches and five drivers (one left), one published bus, 90 workers."""
    from dispatch.models import Worker

    folder = tmp_path_factory.mktemp("free-fleet")
    app = make_app(folder, f"sqlite:///{folder / 'fleet.db'}")
    with app.app_context():
        fresh_deployment()
        away = add_coach("晋L·A1234", depot_site_id="hongtong", operator="临汾长运")
        add_coach("晋L·B5678", depot_site_id="hongtong", operator="临汾长运")
        drivers = [
            add_driver(name, f"+86138001380{n:02d}")
            for n, name in enumerate(["张建军", "李国强", "王海涛", "赵志刚"])
        ]
        add_driver("离职的刘师傅", "+8613800138099", active=False)
        trip = add_trip(add_plan(day=SOON), "T1", SOON)
        trip.coach, trip.driver1, trip.driver2 = away, drivers[0], drivers[1]
        for seq in range(90):
            db.session.add(
                Worker(
                    name=f"工人{seq}",
                    id_number=id_number(seq),
                    phone="+8613800138000",
                    birth_date=date(1990, 5, 1),
                    sex="M",
                    county_id="hongtong",
                    pickup_site_id="hongtong",
                    destination_site_id="js-kunshan",
                    earliest_date=NEXT,
                    latest_date=NEXT,
                )
            )
        db.session.commit()
        db.engine.dispose()
    return folder / "fleet.db"


@pytest.fixture
def demo_app(tmp_path, fleet_template):
    """Replaces the demo for this module's live server: the small fleet above."""
    shutil.copy(fleet_template, tmp_path / "fleet.db")
    app = create_app(
        base_config(tmp_path, f"sqlite:///{tmp_path / 'fleet.db'}"), instance_path=str(tmp_path)
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def _options(page, selector: str) -> list[str]:
    return page.locator(f"{selector} option").all_inner_texts()


def test_the_plan_counts_only_free_coaches_and_the_crew_form_offers_only_them(
    journey, shot, demo_app
):
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    page.get_by_role("link", name="调度方案").click()
    form = page.locator("#new-plan")
    form.get_by_label("从", exact=True).fill(NEXT.isoformat())
    form.get_by_label("至", exact=True).fill(NEXT.isoformat())
    form.get_by_label("时间上限（秒）").fill("2")
    form.get_by_role("button", name="开始编排").click()
    page.locator("#plan-buses").wait_for(timeout=90_000)
    shot(page, "draft-short-of-coaches")
    expect(page.locator("#plan-buses")).to_have_text("1")
    expect(page.locator("#plan-seated")).to_have_text("51")
    expect(page.locator("#fleet-shortage")).to_contain_text(
        f"{NEXT.isoformat()}：缺 53座大型客车 1 辆"
    )
    expect(page.locator("#no-fleet")).to_have_count(0)
    reasons = page.locator("#unassigned tbody td:nth-child(3)").all_inner_texts()
    assert len(reasons) == 39 and set(reasons) == {f"{NEXT.isoformat()} 已无空余车辆"}

    page.get_by_role("button", name="退出").click()
    log_in(page, "admin", ADMIN_PASSWORD)
    with demo_app.app_context():
        trip_id = db.session.query(Trip.id).filter(Trip.date == NEXT).scalar()
    page.goto(f"/trips/{trip_id}")
    coaches = _options(page, "#f-coach")
    assert coaches == ["未指定", "晋L·B5678 · 临汾长运"]  # 晋L·A1234 is still away on T1
    drivers = _options(page, "#f-driver1")
    assert [d.split(" · ")[0] for d in drivers[1:]] == [
        "王海涛",
        "赵志刚",
    ]  # no one away, no one who left
    page.get_by_label("车辆（车牌）").select_option(label="晋L·B5678 · 临汾长运")
    page.get_by_label("驾驶员 1").select_option(index=1)
    page.get_by_label("驾驶员 2").select_option(index=2)
    page.get_by_role("button", name="保存车辆与人员").click()
    expect(page.locator("#crew")).to_contain_text("晋L·B5678")
    shot(page, "crew-saved")
