"""Field journeys in Chromium: the dashboard, messages and audit log a coordinator reads, the
manifest they print, the welfare and boarding pages on the day, and the driver's phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import AuditEvent, Coach, OutboundMessage, SeatAssignment, Trip, Worker
from dispatch.services import driver_links
from dispatch.services import manifest as manifests
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.field import drivers_told, hongtong_trip, no_consent_worker, on_the_day
from tests.support.pdf import pages_text

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(field_app: Flask) -> Iterator[Flask]:
    """The live server of these journeys serves the published, notified plan."""
    yield field_app


def _count(app: Flask, query) -> int:
    with app.app_context():
        return db.session.scalar(query) or 0


def _notified(app: Flask, county: str, statuses: tuple[str, ...]) -> int:
    """Hongtong workers with an accepted departure notice, counted straight from the outbox."""
    om = OutboundMessage
    return _count(
        app,
        select(func.count(func.distinct(om.worker_id)))
        .join(Worker, Worker.id == om.worker_id)
        .where(om.kind == "departure", om.status.in_(statuses), Worker.county_id == county),
    )


def test_the_coordinator_reads_who_was_notified_why_one_was_not_and_the_audit_in_chinese(
    journey, demo_app, shot
):
    page = journey
    with demo_app.app_context():
        refuser = no_consent_worker()
        refuser_name = refuser.name
    notified = _notified(demo_app, "hongtong", ("sent", "delivered"))
    delivered = _notified(demo_app, "hongtong", ("delivered",))
    assert notified > delivered > 0

    log_in(page, "hong", COORD_PASSWORD)
    expect(page.locator("h1")).to_have_text("总览")
    expect(page.locator('[data-stage="notified"]')).to_have_text(
        str(notified)
    )  # was 0 before the fix
    expect(page.locator('[data-stage="delivered"]')).to_have_text(str(delivered))
    expect(page.locator(".stat-cards")).to_contain_text("短信已送达")
    shot(page, "dashboard")

    page.get_by_role("link", name="短信").first.click()
    page.get_by_label("状态").select_option(label="未发送：请电话通知")
    page.get_by_role("button", name="筛选").click()
    row = page.locator("#messages tbody tr").filter(has_text=refuser_name).first
    expect(row.locator(".reason")).to_have_text("本人未同意接收短信通知，请电话联系")
    expect(page.locator("#messages")).not_to_contain_text("consent")
    unreachable = page.locator("#attention-workers")
    expect(unreachable).to_contain_text(refuser_name)
    expect(unreachable).to_contain_text("未同意接收短信")
    listed = page.locator("#messages").inner_text()
    with demo_app.app_context():
        phones = db.session.scalars(
            select(Worker.phone).where(Worker.county_id == "hongtong", Worker.phone.is_not(None))
        ).all()
    digits = [re.sub(r"\D", "", p)[-11:] for p in phones]
    assert digits and not [d for d in digits if d in listed]  # recipients' numbers are masked
    assert re.search(r"1\d{2}\*{4}\d{4}", listed)  # and shown as 138****1234
    shot(page, "messages-refused")

    # a row written before reasons had codes (English text only) still reads in Chinese
    with demo_app.app_context():
        om = OutboundMessage
        old = db.session.scalars(
            select(om)
            .join(Worker, Worker.id == om.worker_id)
            .where(om.status == "sent", Worker.county_id == "hongtong")
            .order_by(om.id)
        ).first()
        old.status, old.error_code, old.error_message = (
            "suppressed",
            None,
            "worker opted out (hotline)",
        )
        old_name = old.worker.name
        db.session.commit()
    page.reload()
    legacy = page.locator("#messages tbody tr").filter(has_text=old_name).first
    expect(legacy.locator(".reason")).to_have_text("本人已退订短信，请电话联系")

    # the drivers of the county's buses were told: their notices are the coordinator's to see
    told = drivers_told(demo_app)
    page.get_by_label("状态").select_option(label="全部")
    page.get_by_label("类型").select_option(label="出车通知")
    page.get_by_role("button", name="筛选").click()
    drivers = page.locator("#messages tbody tr")
    expect(drivers.first).to_contain_text("驾驶员")
    assert drivers.count() == told > 0

    trip_id = hongtong_trip(demo_app)
    with time_machine.travel(on_the_day(demo_app, trip_id)):
        page.get_by_role("button", name="退出", exact=True).click()
        log_in(page, "admin", ADMIN_PASSWORD)
        page.goto(f"/trips/{trip_id}/manifest")
        with demo_app.app_context():
            seat = db.session.get(Trip, trip_id).seats[0]
            worker_id, name, code = seat.worker_id, seat.worker.name, seat.trip.code
        page.locator(f'tr[data-worker="{worker_id}"] button[data-mark="boarded"]').click()
        expect(page.locator("#sync-status")).to_contain_text("已保存")
        page.goto("/workers/audit")
        audit = page.locator("#audit")
        expect(audit).to_contain_text("发布排车方案")
        page.get_by_label("操作").select_option(label="登记上车")
        page.get_by_label("用户").select_option(label="admin")
        day = on_the_day(demo_app, trip_id).date() + timedelta(days=1)
        page.get_by_label("从").fill(day.isoformat())
        page.get_by_label("至").fill(day.isoformat())
        page.get_by_role("button", name="筛选").click()
        rows = page.locator("#audit tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("登记上车")
        expect(rows.first).to_contain_text(code)
        expect(rows.first).to_contain_text(f"人员：{name}")
        expect(rows.first).to_contain_text("标记：已上车")
        text = page.locator("#audit").inner_text()
        assert "seat." not in text and "\\u" not in text and "trip " not in text and "{" not in text
        shot(page, "audit-filtered")
        page.get_by_role("link", name="清除筛选").click()
        expect(page.locator("#audit")).to_contain_text("登录")


def test_the_printed_manifest_shows_the_plate_masked_numbers_and_a_driver_link_to_this_server(
    journey, demo_app, live_server, shot
):
    page = journey
    demo_app.config["PUBLIC_BASE_URL"] = live_server.url  # as `make run` now sets it
    trip_id = hongtong_trip(demo_app)
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        trip.coach = db.session.scalars(
            select(Coach).order_by(Coach.id)
        ).first()  # the demo sets none
        plate = trip.coach.plate
        secrets = [(s.worker.id_number, s.worker.phone.removeprefix("+86")) for s in trip.seats]
        other_id = db.session.scalars(
            select(Trip.id).where(Trip.id != trip_id, Trip.coach_id.is_(None))
        ).first()
        db.session.commit()
    log_in(page, "admin", ADMIN_PASSWORD)
    page.goto(f"/trips/{trip_id}/manifest")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("车牌")
    expect(facts.locator(".plate")).to_have_text(plate)
    expect(facts).not_to_contain_text("未指定")
    page.locator(".driver-link summary").click()
    old_link = page.locator("#driver-link").input_value()
    assert old_link.startswith(live_server.url + "/m/")
    page.get_by_role("button", name="生成新链接（旧链接随即失效）").click()
    expect(page.locator("body")).to_contain_text("已生成新的司机链接")
    page.locator(".driver-link summary").click()
    new_link = page.locator("#driver-link").input_value()
    assert new_link != old_link and new_link.startswith(live_server.url + "/m/")

    page.emulate_media(media="print")
    shot(page, "manifest-print")
    printed = "\n".join(pages_text(page.pdf(prefer_css_page_size=True)))
    assert "车牌" in printed and plate in printed
    assert "拨打" not in printed and "撤销" not in printed
    for id_number, phone in secrets:
        assert id_number not in printed and phone not in printed
        assert phone[:3] + "****" + phone[-4:] in printed
    page.emulate_media(media="screen")
    page.goto(f"/trips/{other_id}/manifest")
    expect(page.locator(".facts .plate")).to_have_text("待定")
    shot(page, "manifest-no-coach")


def test_the_driver_checks_in_undoes_a_pack_calls_a_late_passenger_and_rides_out_a_dead_spot(
    phone_journey, demo_app, shot
):
    page = phone_journey
    trip_id = hongtong_trip(demo_app)
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        token = driver_links.token_for(trip, demo_app.secret_key)
        first, second, late, fourth = (s.worker_id for s in trip.seats[:4])
        late_phone = db.session.get(Worker, late).phone
    page.console_watch.allow(r"tel:")  # dialling: headless Chromium has no phone app
    page.console_watch.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch")
    with time_machine.travel(on_the_day(demo_app, trip_id)):
        page.goto(f"/m/{token}")
        row = page.locator(f'tr[data-worker="{first}"]')
        handover = page.locator(f'form.arrival input[name="worker_id"][value="{first}"]')
        expect(handover).not_to_be_checked()
        row.get_by_role("button", name="已上车").tap()
        expect(row).to_have_class(re.compile("is-boarded"))
        expect(page.locator('[data-count="boarded"]').first).to_have_text("1")
        # the hand-over list at the gate follows without a reload (it stayed "not marked
        # boarded", and the driver would have handed over a stale list)
        expect(handover).to_be_checked()
        expect(handover.locator("xpath=..")).not_to_have_class(re.compile("unmarked"))

        packed = page.locator(f'tr[data-worker="{second}"]')
        packed.get_by_role("button", name="礼包").tap()
        undo = packed.get_by_role("button", name="撤销")
        expect(undo).to_be_visible()
        expect(page.locator("#sync-status")).to_contain_text("已保存")
        shot(page, "pack-with-undo")
        undo.tap()
        expect(undo).to_be_hidden()
        expect(packed.get_by_role("button", name="礼包")).to_have_attribute("aria-pressed", "false")
        expect(page.locator("#sync-status")).to_contain_text("已保存")

        page.context.set_offline(True)
        offline = page.locator(f'tr[data-worker="{fourth}"]')
        offline.get_by_role("button", name="已上车").tap()
        expect(page.locator("#sync-status")).to_contain_text("重试")
        shot(page, "offline-retrying")
        page.context.set_offline(False)
        expect(page.locator("#sync-status")).to_contain_text("已保存", timeout=20_000)
        expect(offline).to_have_class(re.compile("is-boarded"))

        calling = page.locator(f'tr[data-worker="{late}"]')
        calling.get_by_role("button", name="拨打").tap()
        number = calling.locator("a.revealed")
        expect(number).to_be_visible()
        expect(number).to_have_text(late_phone.removeprefix("+86"))
        assert number.get_attribute("href") == f"tel:{late_phone}"
        shot(page, "number-revealed")
        page.emulate_media(media="print")
        expect(number).to_be_hidden()  # printed pages stay masked
        expect(calling.locator(".masked")).to_be_visible()
        page.emulate_media(media="screen")
    with demo_app.app_context():
        seats = {
            s.worker_id: s
            for s in db.session.scalars(select(SeatAssignment).filter_by(trip_id=trip_id))
        }
        assert (
            seats[first].boarded_at
            and seats[fourth].boarded_at
            and seats[second].pack_given_at is None
        )
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == str(trip_id))
        ).all()
        marked = [
            e for e in events if e.action == "seat.attendance" and e.detail["worker"] == fourth
        ]
        assert len(marked) == 1  # saved once, whatever the retries
        revealed = [e for e in events if e.action == "seat.phone_revealed"]
        assert [(e.detail["worker"], e.detail["by"]) for e in revealed] == [(late, "driver")]
        packs = [e.detail["value"] for e in events if e.action == "seat.pack"]
        assert packs == [True, False]


def test_check_in_is_refused_the_week_before_on_the_driver_page_and_the_welfare_page(
    phone_journey, journey, demo_app, shot
):
    trip_id = hongtong_trip(demo_app)
    week_before = on_the_day(demo_app, trip_id) - timedelta(days=6)
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        token, day = driver_links.token_for(trip, demo_app.secret_key), trip.date
        opens = manifests.marks_open_on(trip).isoformat()
    with time_machine.travel(week_before):
        phone_journey.goto(f"/m/{token}")
        expect(phone_journey.locator("#too-early")).to_contain_text(
            f"签到从出发前一天（{opens}）开始"
        )
        expect(phone_journey.locator('button[data-mark="boarded"]')).to_have_count(0)
        shot(phone_journey, "driver-too-early")

        log_in(journey, "hong", COORD_PASSWORD)
        journey.goto(f"/welfare?date={day}")
        journey.locator("section.card").first.get_by_role(
            "button", name="发放", exact=True
        ).first.click()
        expect(journey.locator(".flash-error")).to_contain_text(
            f"礼包登记从出发前一天（{opens}）开始"
        )
        shot(journey, "welfare-too-early")
    assert (
        _count(demo_app, select(func.count()).where(SeatAssignment.pack_given_at.is_not(None))) == 0
    )


def test_on_the_day_the_coordinator_hands_out_and_takes_back_a_pack_and_calls_a_no_show(
    journey, demo_app, shot
):
    page = journey
    trip_id = hongtong_trip(demo_app)
    page.console_watch.allow(r"tel:")
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        day = trip.date
        absent = next(s for s in trip.seats if s.worker.county_id == "hongtong")
        absent_id, absent_name, absent_phone = (
            absent.worker_id,
            absent.worker.name,
            absent.worker.phone,
        )
    moment = on_the_day(demo_app, trip_id)
    with time_machine.travel(moment):
        with demo_app.app_context():  # the driver marked a no-show from the bus
            manifests.set_mark(
                db.session.get(Trip, trip_id), absent_id, "no_show", True, moment, None, "driver"
            )
            db.session.commit()
        log_in(page, "hong", COORD_PASSWORD)
        page.goto(f"/welfare?date={day}")
        card = page.locator("section.card").first
        first_row = card.locator("tbody tr").first
        name = first_row.locator("td").first.inner_text()
        first_row.get_by_role("button", name="发放", exact=True).click()
        expect(page.locator("body")).to_contain_text(f"已为{name}发放礼包。")
        recent = page.locator("ul.just-handed").first
        expect(recent).to_contain_text(name)
        shot(page, "welfare-handed")
        recent.locator("li").filter(has_text=name).get_by_role("button", name="撤销").click()
        expect(page.locator("body")).to_contain_text(f"已撤销{name}的礼包发放。")
        expect(page.locator("ul.just-handed")).to_have_count(0)
        expect(page.locator("section.card").first.locator("tbody")).to_contain_text(
            name
        )  # back on the list

        page.get_by_role("link", name="上车签到").first.click()
        # the day picker, as a person picks a day
        page.get_by_label("出发日期").fill(day.isoformat())
        page.get_by_role("button", name="查看").click()
        expect(page.locator("h1")).to_contain_text(day.isoformat())
        item = page.locator("#no-show-list li").filter(has_text=absent_name)
        masked = absent_phone[3:6] + "****" + absent_phone[-4:]
        expect(item.locator(".masked")).to_have_text(masked)
        item.get_by_role("button", name="拨打").click()
        expect(item.locator("a.revealed")).to_have_text(absent_phone.removeprefix("+86"))
        assert item.locator("a.revealed").get_attribute("href") == f"tel:{absent_phone}"
        shot(page, "boarding-no-show-called")
    with demo_app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "seat.phone_revealed")
        ).one()
        assert event.user.username == "hong" and event.detail["worker"] == absent_id
        packs = [
            e.detail["value"]
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "seat.pack"))
        ]
        assert packs == [True, False]


def test_a_viewer_sees_masked_numbers_everywhere_and_no_audit_log(journey, demo_app, shot):
    page = journey
    trip_id = hongtong_trip(demo_app)
    moment = on_the_day(demo_app, trip_id)
    with demo_app.app_context():
        trip = db.session.get(Trip, trip_id)
        day = trip.date
        absent = trip.seats[0]
        manifests.set_mark(trip, absent.worker_id, "no_show", True, moment, None, "driver")
        db.session.commit()
        phones = [p.removeprefix("+86") for p in db.session.scalars(select(Worker.phone))]
    full_number = re.compile("|".join(phones[:50]))
    with time_machine.travel(moment):
        log_in(page, "viewer", COORD_PASSWORD)
        for path in (
            "/",
            "/messages/",
            f"/boarding?date={day}",
            f"/welfare?date={day}",
            f"/trips/{trip_id}/manifest",
        ):
            page.goto(path)
            assert not full_number.search(page.content()), path
            expect(page.locator("button[data-call]")).to_have_count(0)
        shot(page, "viewer-manifest")
        page.goto(f"/boarding?date={day}")
        expect(page.locator("#no-show-list")).to_contain_text("****")
        page.console_watch.allow("403")
        response = page.goto("/workers/audit")
        assert response.status == 403
