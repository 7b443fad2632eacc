"""Arrival at the gate: the driver confirms a drop-off stop, workers are handed over once each,
each gets one arrival SMS, and the hand-over list prints with masked ID numbers only."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import mask_id_number
from dispatch.models import AuditEvent, OutboundMessage, SeatAssignment, Trip, TripStop, Worker
from dispatch.services import arrival, manifest
from tests.support.apps import COORD_PASSWORD, login
from tests.support.pdf import pages_text
from tests.support.published import busiest_trip, check_in_time, driver_token


def _board_all(app, trip_id: int) -> dict:
    """Everyone on the busiest bus boarded; the first stop's employer given a contact."""
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        moment = check_in_time(app, trip_id)
        for seat in trip.seats:
            manifest.set_mark(trip, seat.worker_id, "attendance", "boarded", moment, None, "test")
        stop = arrival.dropoffs(trip)[0]
        leaving = [s for s in trip.seats if arrival.stop_of(trip, s) is stop]
        employer = next((s.worker.employer for s in leaving if s.worker.employer), None)
        if employer is not None:
            employer.contact_name, employer.contact_phone = "王经理", "+8613912345678"
        db.session.commit()
        return {
            "stop": stop.id,
            "leaving": [s.worker_id for s in leaving],
            "employer": employer.id if employer else None,
            "after": trip.departure_at + timedelta(hours=14),
            "stops": len(arrival.dropoffs(trip)),
        }


def _arrive(client, token: str, stop: int, workers: list[int]):
    return client.post(
        f"/m/{token}/arrivals", data={"stop_id": stop, "worker_id": workers}, follow_redirects=True
    )


def test_arriving_hands_over_the_stops_workers_and_texts_each_once(published_app):
    trip_id = busiest_trip(published_app)
    s = _board_all(published_app, trip_id)
    token = driver_token(published_app, trip_id)
    client = published_app.test_client()
    with time_machine.travel(s["after"], tick=False):
        page = client.get(f"/m/{token}").text
        assert "到达交接" in page and f'id="stop-{s["stop"]}"' in page
        done = _arrive(client, token, s["stop"], s["leaving"])
        assert done.status_code == 200 and f"交接 {len(s['leaving'])} 人" in done.text
        assert "已到达" in done.text
    with published_app.app_context():
        stop = db.session.get(TripStop, s["stop"])
        assert stop.arrived_at == s["after"] and stop.handed_over == len(s["leaving"])
        workers = [db.session.get(Worker, w) for w in s["leaving"]]
        assert {w.status for w in workers} == {"arrived"}
        sms = db.session.scalars(select(OutboundMessage).filter_by(kind="arrival")).all()
        assert sorted(m.worker_id for m in sms) == sorted(s["leaving"])
        by_worker = {m.worker_id: m for m in sms}
        for worker in workers:
            body = by_worker[worker.id].body
            assert body.startswith("【临汾人社】您已到达")
            if worker.employer_id == s["employer"]:
                assert "王经理" in body and "13912345678" in body
            elif worker.employer is None or not worker.employer.contact_phone:
                assert "调度中心" in body and "0357-12333" in body
        assert db.session.scalars(select(AuditEvent).filter_by(action="stop.arrived")).first()


def test_a_correction_changes_the_count_and_never_texts_twice(published_app):
    trip_id = busiest_trip(published_app)
    s = _board_all(published_app, trip_id)
    token = driver_token(published_app, trip_id)
    client = published_app.test_client()
    kept, left_out = s["leaving"][:-1], s["leaving"][-1]
    with time_machine.travel(s["after"], tick=False):
        _arrive(client, token, s["stop"], s["leaving"])
    with time_machine.travel(s["after"] + timedelta(minutes=10), tick=False):
        _arrive(client, token, s["stop"], kept)
    with published_app.app_context():
        stop = db.session.get(TripStop, s["stop"])
        assert stop.handed_over == len(kept) and stop.arrived_at == s["after"]  # first time stays
        assert db.session.get(Worker, left_out).status == "boarded"
        assert len(
            db.session.scalars(select(OutboundMessage).filter_by(kind="arrival")).all()
        ) == len(s["leaving"])
        line = next(
            x
            for x in arrival.bus_arrival(db.session.get(Trip, trip_id)).stops
            if x.stop.id == stop.id
        )
        assert line.short and line.handed_over == len(kept)


def test_arrival_is_refused_before_departure_and_for_no_shows(published_app):
    trip_id = busiest_trip(published_app)
    s = _board_all(published_app, trip_id)
    token = driver_token(published_app, trip_id)
    client = published_app.test_client()
    with published_app.app_context():  # one of the stop's passengers did not turn up after all
        trip = db.session.get(Trip, trip_id)
        absent = s["leaving"][0]
        moment = check_in_time(published_app, trip_id)
        manifest.set_mark(trip, absent, "attendance", "no_show", moment, None, "test")
        db.session.commit()
    with time_machine.travel(check_in_time(published_app, trip_id), tick=False):
        early = _arrive(client, token, s["stop"], s["leaving"][1:])
        assert "尚未发车" in early.text
    with time_machine.travel(s["after"], tick=False):
        wrong = _arrive(client, token, s["stop"], [absent])
        assert "未保存" in wrong.text
    with published_app.app_context():
        assert db.session.get(TripStop, s["stop"]).arrived_at is None
        assert not db.session.scalars(select(OutboundMessage).filter_by(kind="arrival")).all()


def test_a_passenger_nobody_marked_boarded_can_still_be_handed_over(published_app):
    trip_id = busiest_trip(published_app)
    s = _board_all(published_app, trip_id)
    token = driver_token(published_app, trip_id)
    with published_app.app_context():  # the driver forgot to tick this one at the door
        trip = db.session.get(Trip, trip_id)
        forgot = s["leaving"][0]
        moment = check_in_time(published_app, trip_id)
        manifest.set_mark(trip, forgot, "attendance", "none", moment, None, "test")
        db.session.commit()
    client = published_app.test_client()
    with time_machine.travel(s["after"], tick=False):
        page = client.get(f"/m/{token}").text
        box = re.search(rf'<input type="checkbox" name="worker_id" value="{forgot}"[^>]*>', page)
        assert box and "checked" not in box.group(0) and "未登记上车" in page
        _arrive(client, token, s["stop"], s["leaving"])
    with published_app.app_context():
        seat = db.session.scalars(select(SeatAssignment).filter_by(worker_id=forgot)).one()
        assert seat.boarded_at == s["after"] and seat.arrived_at == s["after"]
        assert seat.worker.status == "arrived"
        assert db.session.get(TripStop, s["stop"]).handed_over == len(s["leaving"])


def test_the_hand_over_list_masks_ids_and_prints_one_page_per_stop(published_app):
    trip_id = busiest_trip(published_app)
    s = _board_all(published_app, trip_id)
    token = driver_token(published_app, trip_id)
    client = published_app.test_client()
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        ids = [(x.worker.id_number, x.worker.name) for x in trip.seats]
        handed = [db.session.get(Worker, w).id_number for w in s["leaving"]]
        code = trip.code
    with time_machine.travel(s["after"], tick=False):
        _arrive(client, token, s["stop"], s["leaving"])
        html = client.get(f"/m/{token}/handover?stop={s['stop']}").text
        whole = client.get(f"/m/{token}/handover").text
        pdf = client.get(f"/m/{token}/handover.pdf")
    assert "交接单" in html and "用工单位联系人（签字）" in html and "驾驶员（签字）" in html
    assert "交接人数：" in html and f"本站交接合计：{len(s['leaving'])} 人" in html
    for id_number, _name in ids:
        assert id_number not in whole
    assert all(mask_id_number(i) in html for i in handed)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    texts = pages_text(pdf.data)
    firsts = [t for t in texts if t.replace(" ", "").startswith("交接单")]
    assert len(firsts) == s["stops"]  # each drop-off stop starts a sheet of its own
    assert all(code in t and "下车点" in t for t in firsts)
    assert "用工单位联系人（签字）" in texts[-1] and "驾驶员（签字）" in texts[-1]
    assert all("身份证号" in t for t in texts)  # the column headers on every page
    assert not any(i in "\n".join(texts) for i, _ in ids)


def test_coordinators_see_the_hand_over_list_of_whole_buses_only(published_app):
    trip_id = busiest_trip(published_app)
    client = published_app.test_client()
    login(client, "hong", COORD_PASSWORD)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        mixed = any(x.worker.county_id != "hongtong" for x in trip.seats)
    answer = client.get(f"/trips/{trip_id}/handover")
    assert answer.status_code == (403 if mixed else 200)
    admin = published_app.test_client()
    login(admin)
    assert admin.get(f"/trips/{trip_id}/handover").status_code == 200
    printed = admin.get(f"/trips/{trip_id}/handover.pdf")
    assert printed.status_code == 200 and printed.data.startswith(b"%PDF")
    assert printed.headers["Cache-Control"] == "no-store"
    assert client.get("/trips/999999/handover").status_code == 404
    assert published_app.test_client().get(f"/trips/{trip_id}/handover").status_code in (302, 401)


def test_without_an_employer_contact_the_sms_names_the_hotline(published_app):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        seat = trip.seats[0]
        seat.worker.employer_id = None
        db.session.flush()
        stop = arrival.stop_of(trip, seat)
        assert arrival.arrival_notice(
            trip, stop, seat.worker, trip.departure_at, published_app.config
        )
        assert not arrival.arrival_notice(
            trip, stop, seat.worker, trip.departure_at, published_app.config
        )
        body = db.session.scalars(select(OutboundMessage).filter_by(kind="arrival")).one().body
        assert (
            body
            == f"【临汾人社】您已到达{stop.site.name_zh}，用工单位联系人调度中心，电话0357-12333。"
        )


def _stage(html: str, stage: str) -> int:
    return int(re.search(rf'data-stage="{stage}">(\d+)<', html).group(1))


def test_coordinators_see_when_each_bus_arrived_and_who_was_not_handed_over(published_app):
    trip_id = busiest_trip(published_app)
    s = _board_all(published_app, trip_id)
    token = driver_token(published_app, trip_id)
    kept = s["leaving"][:-1]
    admin = published_app.test_client()
    with published_app.app_context():
        day = db.session.get(Trip, trip_id).date
    with time_machine.travel(s["after"], tick=False):
        login(admin)
        before = _stage(admin.get("/").text, "arrived")
        _arrive(published_app.test_client(), token, s["stop"], kept)
        bus = admin.get(f"/trips/{trip_id}").text
        board = admin.get(f"/boarding?date={day}").text
        data = admin.get(f"/boarding/data?date={day}").json
        after = _stage(admin.get("/").text, "arrived")
    boarded = len(_seats_of(published_app, trip_id))
    assert f"登车 {boarded} 人，已交接 {len(kept)} 人" in bus
    assert 'id="arrival-warning"' in bus and "1 人已登车但未交接" in bus
    assert f"/trips/{trip_id}/handover?stop={s['stop']}" in bus
    row = re.search(rf'<tr data-trip="{trip_id}">.*?</tr>', board, re.S).group(0)
    assert f'data-field="arrived">{len(kept)}<' in row and "未全部交接" in row
    assert next(b for b in data["buses"] if b["trip_id"] == trip_id)["arrived"] == len(kept)
    assert after == before + len(kept)


def _seats_of(app, trip_id: int) -> list[int]:
    with app.app_context():
        return [x.worker_id for x in db.session.get(Trip, trip_id).seats if x.boarded_at]
