"""Reference data, fleet validation, deletion rules and the busy windows of coaches and drivers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import AuditEvent, Coach, CoachType, County, Driver, Employer, Site, Worker
from dispatch.models.trips import PLAN_DRAFT
from dispatch.services import crew, fleet
from dispatch.services.availability import busy_window
from dispatch.services.demo import SPREAD, load_demo
from dispatch.services.reference import load_reference
from tests.support.apps import make_app
from tests.support.fleet import DAY, add_coach, add_driver, add_plan, add_trip, fresh_deployment


@pytest.fixture
def fresh(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        fresh_deployment()
        db.session.commit()
        yield app
        db.session.rollback()
        db.engine.dispose()


def _counts() -> tuple[int, ...]:
    models = (Site, County, CoachType, Coach, Driver, Employer, Worker)
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in models)


def test_reference_load_twice_changes_nothing_and_demo_builds_on_it(fresh):
    first = _counts()
    assert first == (29, 17, 3, 0, 0, 0, 0)
    db.session.get(Site, "js-kunshan").address = "昆山开发区前进东路"  # an admin's edit survives
    report = load_reference()
    db.session.commit()
    assert (report.sites_added, report.counties_added, report.coach_types_added) == (0, 0, 0)
    assert _counts() == first
    assert db.session.get(Site, "js-kunshan").address == "昆山开发区前进东路"
    assert db.session.get(County, "hongtong").default_pickup_id == "hongtong"
    load_demo(workers=20, profile=SPREAD)
    db.session.commit()
    sites, counties, types, coaches, drivers, employers, workers = _counts()
    assert (sites, counties, types) == first[:3]
    assert coaches == 13 and drivers == 26 and employers > 0 and workers == 20


@pytest.mark.parametrize(
    ("raw", "plate"),
    [
        ("晋LA1234", "晋L·A1234"),
        ("晋L·A1234", "晋L·A1234"),
        ("晋l a1234", "晋L·A1234"),
        ("晋L-A1234", "晋L·A1234"),
        ("晋LD12345", "晋L·D12345"),
        ("沪A12345F", "沪A·12345F"),
    ],
)
def test_plates_have_one_canonical_form(raw, plate):
    assert fleet.canonical_plate(raw) == plate


@pytest.mark.parametrize("raw", ["", "晋L123", "XLA1234", "晋LA12O4", "晋1A1234", "晋LA1234567"])
def test_bad_plates_are_refused(raw):
    with pytest.raises(ValueError):
        fleet.canonical_plate(raw)


def test_the_same_plate_written_otherwise_is_taken(fresh):
    fleet.save(
        "coach", None, {"plate": "晋LA1234", "coach_type": "c53", "operator": "洪洞客运"}, None
    )
    with pytest.raises(fleet.Taken) as error:
        fleet.save("coach", None, {"plate": "晋L·A1234", "coach_type": "c45"}, None)
    assert "plate" in error.value.fields
    coach = db.session.scalar(select(Coach))
    assert (
        coach.operator == "洪洞客运" and coach.operator_ref.name == "洪洞客运"
    )  # unknown operator created
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "coach"))
        == "coach.create"
    )


def test_every_bad_field_is_named_and_nothing_is_saved(fresh):
    with pytest.raises(fleet.FleetError) as error:
        fleet.save(
            "site",
            None,
            {
                "id": "Bad Id",
                "kind": "dropoff",
                "name": "",
                "lat": "48.85",
                "lon": "2.35",
                "default_window": "7点",
            },
            None,
        )
    assert set(error.value.fields) == {"id", "name", "lon", "default_window"}  # Paris: lon outside
    assert "中国境内" in error.value.fields["lon"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Site)) == 29


def test_deleting_what_is_in_use_is_refused_and_deactivating_works(fresh):
    coach = add_coach()
    trip = add_trip(add_plan(), "T1", DAY)
    crew.assign_crew(trip, crew.Crew(coach.id, None, None, None), None)
    with pytest.raises(fleet.InUse, match="T1"):
        fleet.delete("coach", coach, None)
    fleet.set_active("coach", coach, False, None)
    assert not coach.active and coach not in crew.coach_choices(trip)
    with pytest.raises(fleet.InUse):
        fleet.delete("site", db.session.get(Site, "js-kunshan"), None)  # the bus stops there
    spare = add_coach("晋L·B2222")
    fleet.delete("coach", spare, None)
    assert db.session.get(Coach, spare.id) is None


def test_a_coach_to_kunshan_is_away_until_back_and_rested(fresh):
    trip = add_trip(add_plan(), "T1", DAY)
    window = busy_window(trip)
    out = trip.stops[-1].eta - trip.departure_at
    assert timedelta(hours=15) < out < timedelta(hours=26)  # ~1,200 km at coach speeds with rests
    assert window.end - window.start > 2 * out + timedelta(
        days=1
    )  # out, unload, back empty, a rest day
    assert window.end.date() == DAY + timedelta(days=2)


def test_the_same_coach_cannot_take_the_next_mornings_bus(fresh):
    coach, d1, d2 = (
        add_coach(),
        add_driver("张师傅", "+8613800138001"),
        add_driver("李师傅", "+8613800138002"),
    )
    plan = add_plan()
    first, next_morning = add_trip(plan, "T1", DAY), add_trip(plan, "T2", DAY + timedelta(days=1))
    later = add_trip(plan, "T3", DAY + timedelta(days=5))
    crew.assign_crew(first, crew.Crew(coach.id, d1.id, d2.id, None), None)
    with pytest.raises(crew.CrewClash, match="T1") as clash:
        crew.assign_crew(next_morning, crew.Crew(coach.id, None, None, None), None)
    assert clash.value.window.trip_id == first.id
    with pytest.raises(crew.CrewClash, match="张师傅"):
        crew.assign_crew(next_morning, crew.Crew(None, d1.id, None, None), None)
    crew.assign_crew(
        later, crew.Crew(coach.id, d1.id, d2.id, None), None
    )  # back and rested by then
    assert later.coach_id == coach.id


def test_a_draft_of_another_plan_does_not_hold_the_coach(fresh):
    coach = add_coach()
    draft_a, draft_b = add_plan(PLAN_DRAFT), add_plan(PLAN_DRAFT)
    crew.assign_crew(add_trip(draft_a, "T1", DAY), crew.Crew(coach.id, None, None, None), None)
    trip = add_trip(draft_b, "T1", DAY)
    crew.assign_crew(trip, crew.Crew(coach.id, None, None, None), None)
    assert trip.coach_id == coach.id


def test_certificates_expiring_before_the_trip_are_refused(fresh):
    coach = add_coach(certificate_expires=DAY - timedelta(days=1))
    driver = add_driver("王师傅", "+8613800138003", qualification_expires=date(2026, 2, 1))
    trip = add_trip(add_plan(), "T1", DAY)
    with pytest.raises(crew.SeatError, match="道路运输证"):
        crew.assign_crew(trip, crew.Crew(coach.id, None, None, None), None)
    with pytest.raises(crew.SeatError, match="王师傅"):
        crew.assign_crew(trip, crew.Crew(None, driver.id, None, None), None)
