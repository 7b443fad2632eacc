"""Manifests: signed driver links, the page's contents, check-in marks and the .xlsx export."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import mask_id_number, mask_phone
from dispatch.models import (
    AuditEvent,
    Plan,
    SeatAssignment,
    Site,
    Trip,
    Worker,
)
from dispatch.services import manifest as manifests
from tests.support.apps import COORD_PASSWORD, login
from tests.support.published import (
    busiest_trip,
    check_in_time,
    driver_token,
)


def test_the_manifest_lists_passengers_by_stop_masked_with_who_to_phone(published_app, full_bus):
    with published_app.app_context():
        trip = db.session.get(Trip, full_bus)
        unreachable = trip.seats[3].worker
        unreachable.sms_consent = False
        trip.captain_worker_id = trip.seats[0].worker_id
        db.session.commit()
        captain_id, captain_name, captain_seat = (
            trip.seats[0].worker_id,
            trip.seats[0].worker.name,
            trip.seats[0].seat_no,
        )
        workers = [s.worker for s in trip.seats]
        ids = [
            (w.id_number, w.phone[3:], mask_id_number(w.id_number), mask_phone(w.phone))
            for w in workers
        ]
        stops = [s.site.name_zh for s in trip.stops]
        unreachable_id = unreachable.id
    client = published_app.test_client()
    login(client)
    html = client.get(f"/trips/{full_bus}/manifest").text
    for full_id, full_phone, masked_id, masked_phone in ids:
        assert full_id not in html and full_phone not in html
        assert masked_id in html and masked_phone in html
    assert html.count('<tr class="passenger') == 51
    assert all(name in html for name in stops)
    assert f'data-worker="{unreachable_id}"' in html
    row = html.split(f'data-worker="{unreachable_id}"')[1].split("</tr>")[0]
    assert (
        '<span class="tag warn"' in row and ">电话</span>" in row
    )  # text, not a glyph the printer may lack
    captain_row = html.split(f'data-worker="{captain_id}"')[1].split("</tr>")[0]
    assert f'{captain_name} <span class="tag">车长</span>' in captain_row
    assert (
        f"{captain_name} ({captain_seat}号座)" in html.split('class="facts"')[1]
    )  # in the header too
    on = re.findall(
        r'<td class="num">(\d*)</td><td class="num">(\d*)</td></tr>', html.split('class="stops"')[1]
    )
    assert sum(int(a or 0) for a, _ in on) == 51 and sum(int(b or 0) for _, b in on) == 51
    assert "应到 <b>51</b>" in html.split('class="totals"')[1]


def test_check_in_marks_are_idempotent_exclusive_and_counted(published_app):
    trip_id = busiest_trip(published_app)
    token = driver_token(published_app, trip_id)
    with published_app.app_context():
        seats = db.session.get(Trip, trip_id).seats
        first, second = seats[0].worker_id, seats[1].worker_id
    client = published_app.test_client()
    url = f"/m/{token}/marks"
    on_the_day = check_in_time(published_app, trip_id)
    with time_machine.travel(on_the_day, tick=False):
        for _ in range(2):  # a retried request changes nothing more
            done = client.post(url, json={"worker_id": first, "mark": "boarded", "value": True})
            assert done.status_code == 200 and done.json["state"] == {
                "boarded": True,
                "no_show": False,
                "pack": False,
            }
        assert done.json["counts"]["boarded"] == 1
        client.post(url, json={"worker_id": first, "mark": "pack", "value": True})
        missing = client.post(url, json={"worker_id": second, "mark": "no_show", "value": True})
        assert missing.json["counts"] == {
            "expected": len(seats),
            "boarded": 1,
            "no_show": 1,
            "packs": 1,
        }
        turned_up = client.post(url, json={"worker_id": second, "mark": "boarded", "value": True})
        assert turned_up.json["state"] == {"boarded": True, "no_show": False, "pack": False}
        assert (
            client.post(
                url, json={"worker_id": first, "mark": "boarded", "value": False}
            ).status_code
            == 200
        )
        assert client.post(url, json={"worker_id": first, "mark": "fly"}).status_code == 400
        assert client.post(url, data="nonsense").status_code == 400
        assert (
            client.post(url, json={"worker_id": -1, "mark": "boarded", "value": True}).status_code
            == 409
        )
    with published_app.app_context():
        one, two = db.session.get(Worker, first), db.session.get(Worker, second)
        assert (one.status, two.status) == ("assigned", "boarded")
        seat = db.session.scalar(select(SeatAssignment).filter_by(worker_id=first))
        assert seat.boarded_at is None and seat.pack_given_at is not None
        assert db.session.scalar(select(AuditEvent).filter_by(action="seat.boarded")) is not None
        trip = db.session.get(Trip, trip_id)
        trip.cancelled_at = on_the_day
        db.session.commit()
    with time_machine.travel(on_the_day, tick=False):
        cancelled = client.post(url, json={"worker_id": second, "mark": "pack", "value": True})
        assert cancelled.status_code == 409 and cancelled.json["error"] == "conflict"


def test_coordinators_mark_only_their_own_counties_and_viewers_not_at_all(published_app):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        seats = db.session.get(Trip, trip_id).seats
        outside = next(s.worker_id for s in seats if s.worker.county_id != "hongtong")
        inside = next((s.worker_id for s in seats if s.worker.county_id == "hongtong"), None)
    url = f"/trips/{trip_id}/marks"
    hong = published_app.test_client()
    login(hong, "hong", COORD_PASSWORD)
    assert (
        hong.post(url, json={"worker_id": outside, "mark": "boarded", "value": True}).status_code
        == 403
    )
    if inside is not None:
        assert (
            hong.post(url, json={"worker_id": inside, "mark": "boarded", "value": True}).status_code
            == 200
        )
    assert (
        hong.get(f"/trips/{trip_id}/manifest.xlsx").status_code == 403
    )  # other counties' people aboard
    redacted = hong.get(f"/trips/{trip_id}/manifest").text
    assert "其他县区乘客" in redacted and f'data-worker="{outside}"' not in redacted
    assert "/m/" not in redacted  # no driver link for someone who may not see the whole bus
    viewer = published_app.test_client()
    login(viewer, "viewer", COORD_PASSWORD)
    assert (
        viewer.post(url, json={"worker_id": outside, "mark": "boarded", "value": True}).status_code
        == 403
    )
    assert published_app.test_client().post(url, json={}).status_code in (302, 401)


def test_the_xlsx_export_is_masked_formula_safe_and_prints_its_titles(published_app, full_bus):
    with published_app.app_context():
        trip = db.session.get(Trip, full_bus)
        trip.seats[0].worker.name = "=HYPERLINK(1)"
        db.session.commit()
        full = [(s.worker.id_number, s.worker.phone[3:]) for s in trip.seats]
    client = published_app.test_client()
    login(client)
    response = client.get(f"/trips/{full_bus}/manifest.xlsx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    text = "\n".join(cells)
    for id_number, phone in full:
        assert id_number not in text and phone not in text
    assert not any(c.startswith("=") for c in cells)
    assert "'=HYPERLINK(1)" in cells
    assert sheet.print_title_rows == "$1:$3"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sum(1 for c in cells if c.startswith("1410") and "*" in c) == 51


def test_a_draft_plan_has_a_manifest_for_coordinators_but_takes_no_marks(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(
        args=["plan", "run", "--from", "2026-02-28", "--to", "2026-03-03", "--time-limit", "2"]
    )
    plan_id = int(result.output.splitlines()[0])
    with demo_app.app_context():
        plan = db.session.get(Plan, plan_id)
        trip = plan.trips[0]
        trip_id, worker_id = trip.id, trip.seats[0].worker_id
    client = demo_app.test_client()
    login(client)
    page = client.get(f"/trips/{trip_id}/manifest")
    assert page.status_code == 200 and "data-mark-url" not in page.text
    refused = client.post(
        f"/trips/{trip_id}/marks", json={"worker_id": worker_id, "mark": "boarded", "value": True}
    )
    assert refused.status_code == 409


def test_passengers_whose_pickup_the_bus_does_not_serve_are_listed_apart(published_app):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        served = {s.site_id for s in trip.stops}
        elsewhere = db.session.scalars(
            select(Site).where(Site.kind == "pickup", Site.id.not_in(served))
        ).first()
        stray = trip.seats[0].worker
        stray.pickup_site_id = elsewhere.id
        db.session.commit()
        stray_id = stray.id
    client = published_app.test_client()
    login(client)
    html = client.get(f"/trips/{trip_id}/manifest").text
    group = html.split("off-route")[1].split("</tbody>")[0]
    assert f'data-worker="{stray_id}"' in group and "上车点不在本车路线上" in group


def test_attendance_is_one_state_even_when_two_marks_race_from_stale_reads(published_app):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        worker_id = db.session.get(Trip, trip_id).seats[0].worker_id
    on_the_day = check_in_time(published_app, trip_id)
    with published_app.app_context():  # the driver's request has read the bus…
        driver_trip = db.session.get(Trip, trip_id)
        assert manifests.seat_state(driver_trip.seats[0]) == {
            "boarded": False,
            "no_show": False,
            "pack": False,
        }
        with published_app.app_context():  # …when a coordinator marks a no-show and commits
            manifests.set_mark(
                db.session.get(Trip, trip_id), worker_id, "no_show", True, on_the_day, None, "c"
            )
            db.session.commit()
        seat = manifests.set_mark(
            driver_trip, worker_id, "attendance", "boarded", on_the_day, None, "driver"
        )
        db.session.commit()
        assert manifests.seat_state(seat) == {"boarded": True, "no_show": False, "pack": False}
    with published_app.app_context():
        seat = db.session.scalar(select(SeatAssignment).filter_by(worker_id=worker_id))
        assert (seat.boarded_at is not None, seat.no_show_at is None) == (True, True)
        manifests.set_mark(seat.trip, worker_id, "attendance", "none", on_the_day, None, "driver")
        assert manifests.seat_state(seat) == {"boarded": False, "no_show": False, "pack": False}
        assert seat.worker.status == "assigned"
        manifests.set_mark(seat.trip, worker_id, "pack", True, on_the_day, None, "driver")
        assert seat.worker.status == "assigned"  # a pack says nothing about attendance
        for bad in (("attendance", True), ("attendance", "late"), ("pack", "yes"), ("sleep", True)):
            with pytest.raises(manifests.MarkError):
                manifests.set_mark(seat.trip, worker_id, *bad, on_the_day, None, "driver")


def test_check_in_opens_the_day_before_and_a_pack_is_taken_back_only_within_ten_minutes(
    published_app,
):
    trip_id = busiest_trip(published_app)
    on_the_day = check_in_time(published_app, trip_id)
    token = driver_token(published_app, trip_id)
    with published_app.app_context():
        worker_id = db.session.get(Trip, trip_id).seats[0].worker_id
    client = published_app.test_client()
    url = f"/m/{token}/marks"
    with time_machine.travel(on_the_day - timedelta(days=6), tick=False):  # the week before
        early = client.post(url, json={"worker_id": worker_id, "mark": "boarded", "value": True})
        assert early.status_code == 409 and "出发前一天" in early.json["message"]
        assert "签到从出发前一天" in client.get(f"/m/{token}").text
    with time_machine.travel(
        on_the_day - timedelta(hours=12), tick=False
    ):  # the evening before: open
        assert (
            client.post(
                url, json={"worker_id": worker_id, "mark": "pack", "value": True}
            ).status_code
            == 200
        )
    with time_machine.travel(
        on_the_day - timedelta(hours=11, minutes=51), tick=False
    ):  # 9 minutes on
        assert (
            client.post(
                url, json={"worker_id": worker_id, "mark": "pack", "value": False}
            ).status_code
            == 200
        )
        assert (
            client.post(
                url, json={"worker_id": worker_id, "mark": "pack", "value": True}
            ).status_code
            == 200
        )
    with time_machine.travel(on_the_day, tick=False):  # hours later: the hand-out stands
        late = client.post(url, json={"worker_id": worker_id, "mark": "pack", "value": False})
        assert late.status_code == 409 and "撤销" in late.json["message"]
    with published_app.app_context():
        seat = db.session.scalar(
            select(SeatAssignment).filter_by(worker_id=worker_id, trip_id=trip_id)
        )
        assert seat.pack_given_at is not None
        actions = [
            e.action
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "seat.pack"))
        ]
        assert len(actions) == 3  # given, undone, given again: each audited
