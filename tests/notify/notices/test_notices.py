"""Notices written at publishing and after seat changes: one row per worker and kind, the
right due times (UTC stored, Shanghai meant), never twice, nothing to those who said no."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import (
    Coach,
    OutboundMessage,
    Plan,
    SeatAssignment,
    Trip,
    TripChange,
    WelfareHandout,
    Worker,
)
from dispatch.models import messages as m
from dispatch.notify.segments import count_segments
from dispatch.services import crew, driver_links, seats
from dispatch.services.notices import notices, templates
from dispatch.services.notices.journeys import place_name
from dispatch.services.notices.texts import cn_phone
from tests.support.coaches import assign_coaches

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 2, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, days before every trip
WORKER_KINDS = {"departure", "reminder", "welfare"}


def _plan(app) -> Plan:
    return db.session.get(Plan, app.config["TEST_PLAN_ID"])


def _coaches(app) -> None:
    """Every bus has its coach before the notices are written (departure notices need it)."""
    assign_coaches(_plan(app), before_notices=True)
    db.session.commit()


def _schedule(app, now: datetime = NOW) -> int:
    created = notices.schedule_for_published_plan(_plan(app), now, app.config)
    db.session.commit()
    return created


def _rows(**where) -> list[OutboundMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboundMessage).filter_by(**where)))


def _tick(app, now: datetime) -> str:
    result = app.test_cli_runner().invoke(args=["notify", "tick", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def _busy_trip(app, minimum: int = 3) -> Trip:
    return next(t for t in _plan(app).trips if len(t.seats) >= minimum)


def test_publishing_writes_one_row_per_worker_and_kind_with_the_right_due_times(published_app):
    with published_app.app_context():
        _coaches(published_app)
        seated = db.session.scalars(select(SeatAssignment)).all()
        expected = notices.estimate(_plan(published_app), published_app.config, NOW)
        created = _schedule(published_app)
        every = _rows()
        rows = [r for r in every if r.worker_id is not None]
        drivers = {
            (t.id, d.id) for t in _plan(published_app).trips for d in (t.driver1, t.driver2) if d
        }
        assert created == len(every) == expected.messages
        assert len(rows) == 3 * len(seated) and len(every) - len(rows) == len(drivers)
        assert expected.segments == sum(r.segments for r in every)
        assert expected.cost_cny == round(expected.segments * 0.05, 2)
        per_pair = Counter((r.worker_id, r.kind) for r in rows)
        assert set(per_pair.values()) == {1}
        assert {kind for _, kind in per_pair} == WORKER_KINDS
        for seat in seated:
            stop = notices.pickup_stop(seat.trip, seat.worker)
            mine = {r.kind: r for r in rows if r.worker_id == seat.worker_id}
            assert mine["departure"].due_at == NOW and not mine["departure"].urgent
            # 18:00 in Shanghai the evening before is 10:00 UTC: the 8-hour trap.
            evening_before = datetime.combine(
                seat.trip.date - timedelta(days=1), time(10, 0), tzinfo=UTC
            )
            assert mine["reminder"].due_at == evening_before
            assert mine["reminder"].expires_at == stop.eta
            assert mine["welfare"].due_at == evening_before
            assert mine["departure"].dedupe_key == f"departure:w{seat.worker_id}:t{seat.trip_id}:v1"
        assert _schedule(published_app) == 0  # a second call writes nothing new
        assert len(_rows()) == len(every)


def test_texts_carry_plate_seat_time_place_and_stay_within_two_segments(published_app):
    published_app.config["PUBLIC_BASE_URL"] = "https://dispatch.example.cn"
    with published_app.app_context():
        trip = _busy_trip(published_app)
        coach = db.session.scalars(select(Coach).limit(1)).one()
        trip.coach, trip.driver1, trip.driver2 = coach, coach.driver1, coach.driver2
        db.session.commit()
        _schedule(published_app)
        for row in _rows():
            assert count_segments(row.body) <= 2 and row.segments == count_segments(row.body)
            assert row.body.startswith("【临汾人社】") and "回T退订" not in row.body
            assert row.params and templates.render(row.kind, row.params, "【临汾人社】") == row.body
            if row.kind != "driver":  # workers' notices never carry a link
                assert "http" not in row.body and "www." not in row.body
        for row in _rows(kind="driver"):  # the driver's carries the signed manifest link only
            link = f"https://dispatch.example.cn/m/{driver_links.token_for(trip, published_app.secret_key)}"
            assert f"名单 {link} " in row.body and row.body.count("http") == 1
        for seat in trip.seats:
            stop = notices.pickup_stop(trip, seat.worker)
            departure = _rows(kind="departure", worker_id=seat.worker_id)[0]
            assert coach.plate in departure.body and f"车{seat.seat_no}号座" in departure.body
            assert stop.eta.astimezone(SHANGHAI).strftime("%H:%M") in departure.body
            assert stop.site.address in departure.body
            assert f"司机电话{cn_phone(coach.driver1.phone)}" in departure.body
            assert departure.segments == 1
        drivers = _rows(kind="driver")
        assert {r.driver_id for r in drivers} == {coach.driver1_id, coach.driver2_id}
        first = trip.stops[0]
        departs = trip.departure_at.astimezone(SHANGHAI).strftime("%H:%M")
        # where first: the assembly point its passengers are told, not the county's name
        place = place_name(first.site.name_zh, first.site.address)
        assert place != first.site.name_zh
        assert any(place in r.body for r in _rows(kind="departure"))
        for r in drivers:  # when, where first, the stops in order, how many
            assert coach.plate in r.body  # whole beside the link (a longer link cut it: 晋…)
            assert f"{departs}从{place}发车" in r.body and f"乘客{len(trip.seats)}人" in r.body
            assert r.params["stops"].startswith(trip.stops[1].site.name_zh[:2])
        other = next(t for t in _plan(published_app).trips if t.coach_id is None)
        worker_id = other.seats[0].worker_id
        # no coach yet: no departure notice, no reminder; "on the list" 48 hours before
        assert {r.kind for r in _rows(worker_id=worker_id)} == {"waiting", "welfare"}
        waiting = _rows(kind="waiting", worker_id=worker_id)[0]
        assert waiting.due_at == max(
            NOW, notices.pickup_stop(other, other.seats[0].worker).eta - timedelta(hours=48)
        )
        assert "待定" not in waiting.body and "返岗专车名单" in waiting.body


def test_a_welfare_handout_gives_its_place_and_time(published_app):
    with published_app.app_context():
        _coaches(published_app)
        trip = _busy_trip(published_app)
        site_id = trip.stops[0].site_id
        day_before = trip.date - timedelta(days=1)
        db.session.add(
            WelfareHandout(
                site_id=site_id,
                date=trip.date,
                place="县人社局二楼大厅",
                starts_at=datetime.combine(day_before, time(14, 0), tzinfo=SHANGHAI),
                ends_at=datetime.combine(day_before, time(17, 0), tzinfo=SHANGHAI),
            )
        )
        db.session.commit()
        _schedule(published_app)
        seat = next(s for s in trip.seats if s.worker.pickup_site_id == site_id)
        welfare = _rows(kind="welfare", worker_id=seat.worker_id)[0]
        assert "县人社局二楼大厅" in welfare.body and "14:00-17:00" in welfare.body
        two_evenings_before = datetime.combine(
            trip.date - timedelta(days=2), time(10, 0), tzinfo=UTC
        )
        assert welfare.due_at == two_evenings_before
        assert welfare.expires_at == datetime.combine(day_before, time(9, 0), tzinfo=UTC)


def test_workers_without_consent_get_a_suppressed_row_and_nothing_sent(published_app):
    with published_app.app_context():
        _coaches(published_app)
        workers = [s.worker for s in _busy_trip(published_app).seats[:3]]
        workers[0].sms_consent = False
        workers[1].opted_out_at, workers[1].opt_out_source = NOW, "hotline"
        workers[2].phone_invalid_at = NOW
        db.session.commit()
        phones = {w.phone for w in workers}
        ids = [w.id for w in workers]
        _schedule(published_app)
        for worker_id in ids:
            mine = _rows(worker_id=worker_id)
            assert {r.kind for r in mine} == WORKER_KINDS
            assert all(r.status == m.MSG_SUPPRESSED and r.error_message for r in mine)
        sendable = len(_rows()) - 3 * len(ids)
        assert (
            notices.estimate(_plan(published_app), published_app.config, NOW).messages == sendable
        )
    output = _tick(published_app, NOW)
    gateway = published_app.extensions["sms_gateway"]
    assert gateway.sent and "sent=" in output
    assert not phones & {sms.to for sms in gateway.sent}


def test_the_tick_sends_what_is_due_and_holds_the_rest(published_app):
    with published_app.app_context():
        _coaches(published_app)
        _schedule(published_app)
        departures = len(_rows(kind="departure")) + len(_rows(kind="driver"))
    gateway = published_app.extensions["sms_gateway"]
    assert _tick(published_app, NOW).strip() == f"sent={departures}"
    assert len(gateway.sent) == departures
    assert all("回1确认" in sms.body or "出车通知" in sms.body for sms in gateway.sent)
    late_evening = datetime(2026, 2, 26, 23, 0, tzinfo=SHANGHAI)
    assert "sent" not in _tick(published_app, late_evening)  # nothing else due yet
    with published_app.app_context():
        assert all(r.status == m.MSG_SENT and r.provider_sid for r in _rows(kind="departure"))
        assert {r.status for r in _rows(kind="reminder")} == {m.MSG_PENDING}


def test_a_seat_swap_notifies_only_the_two_workers_and_withdraws_their_old_notices(
    published_app,
):
    with published_app.app_context():
        _coaches(published_app)
        _schedule(published_app)
    _tick(published_app, NOW)  # the departure notices went out
    later = NOW + timedelta(hours=1)
    with published_app.app_context():
        trip = _busy_trip(published_app)
        first, second, third = (s.worker_id for s in trip.seats[:3])
        seat_a, seat_b = trip.seats[0].seat_no, trip.seats[1].seat_no
        seats.swap(trip, seat_a, seat_b, None)
        db.session.commit()
        created = notices.schedule_changes(trip, later, published_app.config)
        db.session.commit()
        assert created == 6  # change, reminder and welfare at version 2, for each of the two
        for worker_id, new_seat in ((first, seat_b), (second, seat_a)):
            v2 = {r.kind: r for r in _rows(worker_id=worker_id, version=2)}
            assert set(v2) == {"change", "reminder", "welfare"}
            # only the seat changed, and only the seat is named
            assert v2["change"].body.startswith("【临汾人社】您的座位有变，现为")
            assert f"车{new_seat}号座" in v2["change"].body and v2["change"].due_at == later
            assert f"{new_seat}号座" in v2["reminder"].body
            v1 = {r.kind: r.status for r in _rows(worker_id=worker_id, version=1)}
            assert v1 == {"departure": "sent", "reminder": "cancelled", "welfare": "cancelled"}
        assert {r.status for r in _rows(worker_id=third)} == {"sent", "pending"}
        assert not _rows(worker_id=third, version=2)
        pending = db.session.scalar(select(func.count()).where(TripChange.notified_at.is_(None)))
        assert pending == 0
        assert notices.schedule_changes(trip, later, published_app.config) == 0


def test_moving_a_worker_to_another_bus_and_freeing_a_seat(published_app):
    with published_app.app_context():
        _coaches(published_app)
        _schedule(published_app)
    _tick(published_app, NOW)
    later = NOW + timedelta(hours=2)
    with published_app.app_context():
        plan = _plan(published_app)
        source, target = (
            plan.trips[0],
            next(t for t in plan.trips[1:] if len(t.seats) < t.coach_type.passenger_seats),
        )
        mover, leaver = source.seats[0].worker, source.seats[1].worker
        free_seat = min(set(range(1, 60)) - {s.seat_no for s in target.seats})
        # the target bus must serve the mover (seats.place checks it): as if their plans changed
        mover.pickup_site_id, mover.destination_site_id = (
            target.stops[0].site_id,
            target.stops[-1].site_id,
        )
        mover.earliest_date = mover.latest_date = target.date
        seats.place(target, free_seat, mover, None, allow_split=True)
        seats.free(source, source.seats[1].seat_no, None)
        db.session.commit()
        notices.schedule_changes(target, later, published_app.config)
        notices.schedule_changes(source, later, published_app.config)
        db.session.commit()
        on_source = {(r.kind, r.status) for r in _rows(worker_id=mover.id, trip_id=source.id)}
        assert on_source == {
            ("departure", "sent"),
            ("reminder", "cancelled"),
            ("welfare", "cancelled"),
        }
        change = _rows(worker_id=mover.id, trip_id=target.id, kind="change")[0]
        assert f"车{free_seat}号座" in change.body and "待定" not in change.body
        assert change.params["plate"] == target.coach.plate and "座位" in change.params["changed"]
        assert {r.kind for r in _rows(worker_id=mover.id, trip_id=target.id)} == {
            "change",
            "reminder",
            "welfare",
        }
        assert not _rows(worker_id=mover.id, kind="cancellation")
        cancellation = _rows(worker_id=leaver.id, kind="cancellation")
        assert len(cancellation) == 1 and "乘车安排已取消" in cancellation[0].body
        assert {r.status for r in _rows(worker_id=leaver.id, kind="reminder")} == {"cancelled"}


def test_a_change_on_the_day_of_departure_is_urgent_and_goes_out_in_quiet_hours(published_app):
    with published_app.app_context():
        _coaches(published_app)
        _schedule(published_app)
    _tick(published_app, NOW)
    with published_app.app_context():
        trip = _busy_trip(published_app)
        dawn = datetime.combine(trip.date, time(6, 30), tzinfo=SHANGHAI)  # inside 22:00-07:00
        swapped = {trip.seats[0].worker_id, trip.seats[1].worker_id}
        seats.swap(trip, trip.seats[0].seat_no, trip.seats[1].seat_no, None)
        db.session.commit()
        notices.schedule_changes(trip, dawn, published_app.config)
        db.session.commit()
        changes = _rows(kind="change")
        assert {r.worker_id for r in changes} == swapped
        assert all(r.urgent and r.due_at == dawn for r in changes)
    gateway = published_app.extensions["sms_gateway"]
    before = len(gateway.sent)
    _tick(published_app, dawn)
    at_dawn = gateway.sent[before:]
    with published_app.app_context():
        worker_phones = {db.session.get(Worker, w).phone for w in swapped}
        urgent_ids = {r.id for r in _rows(urgent=True)}
    assert {sms.to for sms in at_dawn} == worker_phones
    assert sum("您的座位有变" in sms.body for sms in at_dawn) == 2
    assert {sms.message_id for sms in at_dawn} <= urgent_ids  # quiet hours: urgent only


def test_due_times_avoid_quiet_hours_unless_urgent(published_app):
    late = datetime(2026, 2, 26, 23, 30, tzinfo=SHANGHAI)
    with published_app.app_context():
        _coaches(published_app)
        _schedule(published_app, late)
        departures = _rows(kind="departure")
        assert {r.due_at for r in departures} == {datetime(2026, 2, 26, 23, 0, tzinfo=UTC)}
        assert not any(r.urgent for r in departures)  # 07:00 local, still before every pickup


def test_the_departure_notice_waits_for_the_plate_and_follows_the_coach(published_app):
    with published_app.app_context():
        _schedule(published_app)  # no bus has a coach yet
        trip = _busy_trip(published_app)
        worker_id = trip.seats[0].worker_id
        assert not _rows(kind="departure") and not _rows(kind="reminder")
        assert {r.kind for r in _rows(worker_id=worker_id)} == {"waiting", "welfare"}
        coach = next(c for c in crew.coach_choices(trip))
        crew.assign_crew(trip, crew.Crew(coach.id, None, None, None), None)
        db.session.commit()
        later = NOW + timedelta(hours=1)
        notices.schedule_pending_changes(later, published_app.config)
        db.session.commit()
        departures = _rows(kind="departure", trip_id=trip.id)
        assert {r.worker_id for r in departures} == {s.worker_id for s in trip.seats}
        mine = next(r for r in departures if r.worker_id == worker_id)
        assert coach.plate in mine.body and "热线电话0357-12333" in mine.body  # no driver yet
        assert mine.due_at == later and not _rows(kind="change", trip_id=trip.id)
        assert {r.status for r in _rows(kind="waiting", worker_id=worker_id)} == {"cancelled"}


def test_a_change_names_only_what_changed(published_app):
    with published_app.app_context():
        _coaches(published_app)
        _schedule(published_app)
    _tick(published_app, NOW)
    later = NOW + timedelta(hours=1)
    with published_app.app_context():
        trip = _busy_trip(published_app)
        seated = {s.worker_id for s in trip.seats}
        other = next(c for c in crew.coach_choices(trip) if c.id != trip.coach_id)
        crew.assign_crew(trip, crew.Crew(other.id, trip.driver1_id, trip.driver2_id, None), None)
        db.session.commit()
        notices.schedule_pending_changes(later, published_app.config)
        db.session.commit()
        changes = _rows(kind="change", trip_id=trip.id)
        assert {r.worker_id for r in changes} == seated
        for row in changes:  # the plate changed; the seat, time and pickup did not
            assert row.params["changed"] == "车牌" and row.body.startswith(
                "【临汾人社】您的车牌有变"
            )
        trip_id = trip.id
    _tick(published_app, later)  # the plate change went out
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        # freeing a seat and taking it again changes nothing the worker was told: no notice
        seat = trip.seats[0]
        worker = seat.worker
        seats.free(trip, seat.seat_no, None)
        seats.place(trip, seat.seat_no, worker, None)
        db.session.commit()
        before = len(_rows(kind="change"))
        notices.schedule_pending_changes(later, published_app.config)
        db.session.commit()
        assert len(_rows(kind="change")) == before
