"""Plan pages as coordinators use them: run the planner, correct the form, re-plan around a
locked bus, read the publish confirmation, publish; county scope; two overlapping drafts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import (
    Coach,
    County,
    Driver,
    OutboundMessage,
    Plan,
    SeatAssignment,
    Trip,
    Worker,
)
from dispatch.services import accounts, planning
from tests.support import seats as seats_data
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.coaches import assign_coaches

pytestmark = pytest.mark.browser

BEFORE = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)  # ten days before the demo's trips
DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)


@pytest.fixture
def city(demo_app):
    """A city coordinator: a coordinator of every county."""
    with demo_app.app_context():
        everyone = list(db.session.scalars(select(County.id)))
        accounts.create_user("city", "coordinator", COORD_PASSWORD, everyone, "市级调度员")
        db.session.commit()
    return demo_app


def _planned(scope: planning.Scope) -> int:
    plan = planning.start_plan(scope, None, time_limit_s=1)
    planning.store_result(plan, planning.solve_plan(plan, 1), time(8, 0), "Asia/Shanghai")
    db.session.commit()
    return plan.id


def _wait_for_draft(page) -> None:
    """The running page refreshes itself until the draft shows."""
    page.locator("#plan-buses").wait_for(timeout=90_000)


def _codes(page) -> list[str]:
    return page.locator("table.trips tr[data-trip]").evaluate_all(
        "rows => rows.map(r => r.dataset.trip)"
    )


def test_city_coordinator_plans_corrects_replans_and_publishes_after_confirming(
    journey, shot, city
):
    page, app = journey, city
    page.console_watch.allow("status of 400")  # the form with "abc" answers 400, on purpose
    with time_machine.travel(BEFORE, tick=True):
        log_in(page, "city", COORD_PASSWORD)
        page.get_by_role("link", name="调度方案").click()
        form = page.locator("#new-plan")
        form.get_by_label("从", exact=True).fill("2026-02-28")
        form.get_by_label("至", exact=True).fill("2026-03-04")
        counties = form.locator("#f-county option").all_inner_texts()
        assert "洪洞县" in counties and len(counties) == 17  # a list to choose from
        form.get_by_label("县区").select_option(
            label=["洪洞县", "汾西县", "侯马市", "曲沃县", "大宁县", "乡宁县"]
        )
        destinations = form.locator("#f-destination option").all_inner_texts()
        assert len(destinations) >= 10
        form.get_by_label("目的地").select_option(index=list(range(len(destinations))))
        form.get_by_label("时间上限（秒）").fill("3")
        shot(page, "plan form")
        form.get_by_role("button", name="开始编排").click()
        expect(page.locator("#plan-status")).to_have_text(re.compile("编排中|草稿"))
        if page.locator("#plan-stage").count():
            shot(page, "planning")
            assert re.search(r"[\u4e00-\u9fff]", page.locator("#plan-stage").inner_text() or "正在")
        _wait_for_draft(page)
        shot(page, "draft")
        expect(page.locator("#plan-status")).to_have_text("草稿")
        expect(page.locator("#bound-note")).to_contain_text("任何方案的费用都不会低于")
        codes = _codes(page)
        numbers = [int(c[1:]) for c in codes]
        assert numbers == list(range(1, len(codes) + 1)), codes  # T1, T2, … T10: by number
        assert len(codes) >= 10, codes
        first_id = int(page.url.rstrip("/").split("/")[-1])

        page.get_by_role("link", name="调度方案").click()
        form = page.locator("#new-plan")
        form.get_by_label("从", exact=True).fill("2026-03-01")
        form.get_by_label("至", exact=True).fill("2026-03-02")
        form.get_by_label("时间上限（秒）").fill("abc")
        form.get_by_role("button", name="开始编排").click()
        expect(page.locator("#err-time_limit")).to_have_text("请输入1到600之间的秒数。")
        expect(page.locator("#f-limit")).to_have_value("abc")  # what was typed stays
        expect(page.locator("#f-from")).to_have_value("2026-03-01")
        shot(page, "time limit error")
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Plan)) == 1  # nothing queued

        with app.app_context():  # lock the bus T2 and give T1 a driver
            trips = {t.code: t for t in db.session.get(Plan, first_id).trips}
            trips["T2"].locked = True
            locked_seats = {s.worker_id: s.seat_no for s in trips["T2"].seats}
            db.session.commit()
        page.goto(f"/plans/{first_id}")
        expect(page.locator('tr[data-trip="T2"] svg.icon-lock')).to_be_visible()
        page.get_by_role("button", name="重新编排").click()
        _wait_for_draft(page)
        shot(page, "re-planned")
        second_id = int(page.url.rstrip("/").split("/")[-1])
        assert second_id != first_id
        expect(page.locator('tr[data-trip="T2"] svg.icon-lock')).to_be_visible()
        with app.app_context():
            kept = next(t for t in db.session.get(Plan, second_id).trips if t.code == "T2")
            assert kept.locked and {s.worker_id: s.seat_no for s in kept.seats} == locked_seats
            assert db.session.get(Plan, first_id).status == "superseded"
            driven = next(t for t in db.session.get(Plan, second_id).trips if t.code == "T1")
            driven.driver1_id = db.session.scalars(select(Driver).order_by(Driver.id)).first().id
            db.session.commit()
            # the buses get their coaches: departure notices wait for a plate (issue 18 §3)
            assign_coaches(db.session.get(Plan, second_id))
            db.session.commit()
            seated = sum(len(t.seats) for t in db.session.get(Plan, second_id).trips)
        assert int(page.locator("#plan-seated").inner_text()) == seated

        page.reload()
        page.get_by_role("link", name="发布…").click()
        expect(page.get_by_role("heading", name=f"确认发布方案 {second_id}？")).to_be_visible()
        shot(page, "publish confirmation")
        assert int(page.locator("#confirm-seated").inner_text()) == seated
        sms = int(page.locator("#confirm-sms").inner_text())
        assert sms > seated  # a departure notice each, reminders, welfare, the driver
        assert float(page.locator("#confirm-cost").inner_text()) > 0
        kinds = page.locator(".sample").evaluate_all("cards => cards.map(c => c.dataset.kind)")
        assert kinds == ["departure", "reminder", "welfare", "driver"]
        for body in page.locator(".sample-body").all_inner_texts():
            # service notifications, not marketing: no opt-out words (issue 18 §1, DOMAIN.md)
            assert body.startswith("【临汾人社】") and "回T退订" not in body
        heads = " ".join(page.locator(".sample-head").all_inner_texts())
        assert re.search(r"1\d\d\*\*\*\*\d{4}", heads)  # the recipient's phone masked
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 0
        page.get_by_role("button", name=f"确认发布并排入 {sms} 条短信").click()
        expect(page.locator("#plan-status")).to_have_text("已发布")
        expect(page.locator(".flash-success")).to_contain_text(f"已发布：{seated} 人已确定座位")
        shot(page, "published")
        assert page.get_by_role("link", name="发布…").count() == 0
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == sms


def test_county_coordinator_reads_a_city_plan_without_other_counties_names(journey, shot, demo_app):
    page = journey
    with demo_app.app_context():
        for coach in db.session.scalars(select(Coach).order_by(Coach.id)).all()[1:]:
            coach.active = False  # one coach: most groups go unserved, listed with a reason
        plan_id = _planned(planning.Scope(DAY1, DAY2))
        plan = db.session.get(Plan, plan_id)
        ids = [int(m[1:]) for u in plan.unassigned for m in u["workers"]]
        workers = db.session.scalars(select(Worker).where(Worker.id.in_(ids))).all()
        others = {w.name for w in workers if w.county_id != "hongtong"}
        own = {w.name for w in workers if w.county_id == "hongtong"}
    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/plans/{plan_id}")
    expect(page.locator("#unassigned")).to_contain_text("人（其他县区）")
    expect(page.locator("#not-yours")).to_be_visible()
    shot(page, "another county's plan")
    listed = page.locator("#unassigned").inner_text()
    assert not [n for n in others - own if n in listed]
    assert all(n in listed for n in own)
    assert page.get_by_role("link", name="发布…").count() == 0
    assert page.get_by_role("button", name="重新编排").count() == 0
    assert page.get_by_role("button", name="废弃").count() == 0
    reasons = page.locator("#unassigned td:nth-child(3)").all_inner_texts()
    assert reasons and all(re.search(r"[\u4e00-\u9fff]", r) for r in reasons)  # in Chinese
    expect(page.locator("#unassigned-more")).to_have_count(0)

    groups = sum(  # the county's own unserved groups: named, up to UNSERVED_ROWS
        any(
            int(m[1:]) in {w.id for w in workers if w.county_id == "hongtong"} for m in u["workers"]
        )
        for u in plan.unassigned
    )
    assert groups >= 2
    demo_app.config["UNSERVED_ROWS"] = 1  # a season short of coaches, in miniature
    page.reload()
    expect(page.locator("#unassigned tbody tr")).to_have_count(2)  # one named, other counties
    expect(page.locator("#unassigned-more")).to_have_text(
        f"……另有 {groups - 1} 个出行组未能安排，未在此列出：人员列表中其状态为“已登记”。"
    )
    shot(page, "unserved groups past the limit")


def test_second_of_two_overlapping_drafts_tells_who_was_dropped_and_why(journey, shot, city):
    page, app = journey, city
    with app.app_context():
        both = db.session.scalars(
            select(Worker)
            .where(Worker.earliest_date <= DAY1, Worker.latest_date >= DAY2)
            .order_by(Worker.id)
        ).all()
        county = min(
            {w.county_id for w in both}, key=lambda c: sum(1 for w in both if w.county_id == c)
        )
        first_id = _planned(planning.Scope(DAY1, DAY1, (county,)))
        second_id = _planned(planning.Scope(DAY2, DAY2))  # city-wide: buses are left to publish
        spare_id = _planned(planning.Scope(date(2026, 3, 3), date(2026, 3, 3), (county,)))
        # Those seated by both drafts (a short search may leave someone unseated in one).
        seated = [
            set(db.session.scalars(select(SeatAssignment.worker_id).filter_by(plan_id=plan_id)))
            for plan_id in (first_id, second_id)
        ]
        twice = {w.name for w in both if w.county_id == county and w.id in seated[0] & seated[1]}
        assert twice
    with time_machine.travel(BEFORE, tick=True):
        log_in(page, "city", COORD_PASSWORD)
        for plan_id in (first_id, second_id):
            page.goto(f"/plans/{plan_id}")
            page.get_by_role("link", name="发布…").click()
            if plan_id == second_id:
                expect(page.locator("#drops")).to_contain_text("已在已发布方案的")
                shot(page, "confirmation with drops")
                assert {
                    r.split("\t")[0] for r in page.locator("#drops tbody tr").all_inner_texts()
                } == twice
                emptied = page.locator("#emptied").count()  # a bus of dropped passengers only
            page.locator("#confirm").dblclick()  # an impatient double click publishes once
            expect(page.locator("#plan-status")).to_have_text("已发布")
            assert page.locator(".flash-error").count() == 0
        warning = page.locator(".flash-warning").first
        if emptied:
            expect(page.locator(".flash-warning").nth(1)).to_contain_text("已无乘客，未发布")
        expect(warning).to_contain_text("未安排座位，不会收到任何短信")
        assert any(name in warning.inner_text() for name in twice)
        expect(page.locator("#unassigned")).to_contain_text("发布时移出：已在已发布方案的")
        shot(page, "second published with drops")

        page.goto(f"/plans/{spare_id}")
        page.get_by_role("button", name="废弃").click()
        expect(page.locator(".flash-success")).to_contain_text(f"方案 {spare_id} 已废弃")
        expect(
            page.locator(f'#plans a[href$="/plans/{spare_id}"]').locator("xpath=../..")
        ).to_contain_text("已废弃")
        shot(page, "spare discarded")
    with app.app_context():
        seated = db.session.execute(
            select(Trip.plan_id, func.count())
            .join(Trip.seats)
            .join(Worker, Worker.id == SeatAssignment.worker_id)
            .where(Worker.name.in_(twice))
            .where(
                Trip.plan_id.in_((first_id, second_id))
            )  # the two published (the spare may seat them too)
            .group_by(Trip.plan_id)
        ).all()
        assert dict(seated) == {first_id: len(twice)}


def test_a_plan_too_big_to_notify_while_publishing_is_published_and_its_notices_follow(
    journey, shot, city
):
    """A season's draft in miniature (PUBLISH_NOTICES_INLINE lowered under its seats): the
    coordinator publishes it, reads that its notices are being written, and after the
    scheduler's tick finds them all on the messages page."""
    page, app = journey, city
    with time_machine.travel(BEFORE, tick=True):
        with app.app_context():
            plan_id = _planned(planning.Scope(DAY1, DAY2))
            assign_coaches(db.session.get(Plan, plan_id))
            db.session.commit()
            seated = db.session.scalar(
                select(func.count()).where(SeatAssignment.plan_id == plan_id)
            )
        app.config["PUBLISH_NOTICES_INLINE"] = seated - 1
        log_in(page, "city", COORD_PASSWORD)
        page.goto(f"/plans/{plan_id}")
        page.get_by_role("link", name="发布…").click()
        sms = int(page.locator("#confirm-sms").inner_text())
        page.get_by_role("button", name=f"确认发布并排入 {sms} 条短信").click()
        expect(page.locator("#plan-status")).to_have_text("已发布")
        expect(page.locator(".flash-success")).to_contain_text(f"已发布：{seated} 人已确定座位")
        tick = app.config["SCHEDULER_TICK_S"]
        expect(page.locator("#notices-pending")).to_have_text(
            f"本方案的通知短信正在生成，{tick} 秒内开始发送；发送情况见“短信”页。"
        )
        shot(page, "published, notices being written")
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 0
            trip = next(
                t
                for t in db.session.scalars(select(Trip).where(Trip.plan_id == plan_id))
                if len(t.seats) < t.coach_type.passenger_seats
            )
            trip_id = trip.id
        # a passenger moved meanwhile is told once, by the publish notice, of the new seat
        bus = seats_data.bus(app, trip_id)
        seat_no, (worker_id, name, _) = sorted(bus.seats.items())[-1]
        free = bus.free_seats()[0]
        page.goto(f"/trips/{trip_id}")
        page.locator("#typed-forms summary").click()
        page.locator("#f-worker").select_option(str(worker_id))
        page.locator("#f-seat").fill(str(free))
        with page.expect_navigation():
            page.locator("#place-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_have_text(
            f"已将{name}从{seat_no}号座调到{free}号座。"
        )
        expect(page.locator("#replies-pending")).to_contain_text("乘车通知短信仍在生成")
        expect(page.locator("#reply-counts")).to_have_count(0)  # nobody was asked anything yet
        shot(page, "a passenger moved while the notices wait")
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 0

        result = app.test_cli_runner().invoke(args=["notify", "tick"])
        assert f"announced={sms}" in result.output, result.output
        with app.app_context():
            told = db.session.execute(
                select(OutboundMessage.kind, OutboundMessage.params).where(
                    OutboundMessage.worker_id == worker_id,
                    OutboundMessage.kind.in_(["departure", "change"]),
                )
            ).all()
            assert [(kind, params["seat"]) for kind, params in told] == [("departure", str(free))]
        page.reload()
        expect(page.locator("#replies-pending")).to_have_count(0)
        expect(page.locator("#reply-counts")).to_contain_text(f"未回复 {len(bus.seats)} 人")
        page.goto(f"/plans/{plan_id}")
        expect(page.locator("#notices-pending")).to_have_count(0)
        page.get_by_role("link", name="短信").first.click()
        expect(page.locator("table").first).to_contain_text("晋")  # the plates went out
        shot(page, "messages after the tick")
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == sms
