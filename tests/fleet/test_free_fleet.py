"""The planner is given the coaches and drivers actually free each day; the crew form offers only those."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Coach, Driver, Employer, Plan, Site, Trip, Worker
from dispatch.models.trips import PLAN_DRAFT
from dispatch.routes import plan_display
from dispatch.services import crew, planning
from dispatch.services.worker_fields import Lookups
from tests.support.apps import login, make_app
from tests.support.fleet import (
    ADMIN_PASSWORD,
    DAY,
    add_coach,
    add_driver,
    add_plan,
    add_trip,
    fresh_deployment,
)
from tests.support.workers import id_number

NEXT = DAY + timedelta(days=1)  # the published bus's coach and drivers are still away


@pytest.fixture
def fleet_app(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    with app.app_context():
        fresh_deployment()
        db.session.commit()
        yield app
        db.session.rollback()
        db.engine.dispose()


def add_workers(
    n: int, day: date, pickup: str = "hongtong", dropoff: str = "js-kunshan", first: int = 0
) -> None:
    """``n`` single workers waiting for a bus on ``day`` (Hongtong to Kunshan)."""
    for seq in range(first, first + n):
        db.session.add(
            Worker(
                name=f"工人{seq}",
                id_number=id_number(seq),
                phone="+8613800138000",
                birth_date=date(1990, 5, 1),
                sex="M",
                county_id="hongtong",
                pickup_site_id=pickup,
                destination_site_id=dropoff,
                earliest_date=day,
                latest_date=day,
            )
        )
    db.session.flush()


def small_fleet() -> tuple[list[Coach], list[Driver], Trip]:
    """Two 53-seat coaches and four drivers; the first coach and two drivers leave on DAY (published)."""
    coaches = [
        add_coach("晋L·A1234", depot_site_id="hongtong"),
        add_coach("晋L·B5678", depot_site_id="hongtong"),
    ]
    drivers = [add_driver(f"司机{n}", f"+861380013800{n}") for n in range(1, 5)]
    trip = add_trip(add_plan(), "P1", DAY)
    trip.coach, trip.driver1, trip.driver2 = coaches[0], drivers[0], drivers[1]
    db.session.commit()
    return coaches, drivers, trip


def _planned(day: date) -> Plan:
    plan = planning.start_plan(planning.Scope(day, day), None, time_limit_s=1)
    planning.store_result(plan, planning.solve_plan(plan, 1), time(8, 0), "Asia/Shanghai")
    db.session.commit()
    return plan


def _available(plan: Plan, type_id: str, day: date) -> int | None:
    row = next(c for c in plan.problem["coach_types"] if c["id"] == type_id)
    return row.get("available", {}).get(day.isoformat())


def test_a_published_bus_holds_its_coach_next_morning_and_the_surplus_is_unserved(fleet_app):
    small_fleet()
    add_workers(90, NEXT)
    db.session.commit()
    plan = _planned(NEXT)
    assert _available(plan, "c53", NEXT) == 1  # two coaches, one still away on P1
    assert _available(plan, "c45", NEXT) == 0  # none of that type entered
    assert len(plan.trips) == 1 and len(plan.trips[0].seats) == 51
    assert len(plan.unassigned) == 39
    assert {u["reason"] for u in plan.unassigned} == {f"no coach left on {NEXT.isoformat()}"}
    assert plan_display.shortages(plan) == [plan_display.Shortage(NEXT, "53座大型客车", 1)]


def test_two_days_later_the_coach_is_back_and_rested(fleet_app):
    small_fleet()
    add_workers(1, DAY + timedelta(days=5))
    db.session.commit()
    plan = _planned(DAY + timedelta(days=5))
    assert _available(plan, "c53", DAY + timedelta(days=5)) == 2


def test_free_drivers_limit_the_buses_too(fleet_app):
    coaches, drivers, _ = small_fleet()
    drivers[2].active = False  # one free driver left: a 1 000 km bus needs two
    add_workers(10, NEXT)
    db.session.commit()
    plan = _planned(NEXT)
    assert _available(plan, "c53", NEXT) == 0
    assert not plan.trips and plan_display.shortages(plan)


def test_expired_certificates_and_unassigned_published_buses_count(fleet_app):
    coaches, _, _ = small_fleet()
    coaches[1].certificate_expires = DAY  # expired before the next morning
    db.session.commit()
    problem = planning.build_problem(planning.Scope(NEXT, NEXT))
    row = next(c for c in problem["coach_types"] if c["id"] == "c53")
    assert row["available"] == {NEXT.isoformat(): 0}
    coaches[1].certificate_expires = None
    add_trip(add_plan(day=NEXT), "P2", NEXT)  # published, no coach yet: it will take one
    db.session.commit()
    row = next(
        c
        for c in planning.build_problem(planning.Scope(NEXT, NEXT))["coach_types"]
        if c["id"] == "c53"
    )
    assert row["available"] == {NEXT.isoformat(): 0}


def test_with_no_coach_entered_the_plan_is_unlimited_and_says_so(fleet_app):
    add_workers(60, NEXT)
    db.session.commit()
    plan = _planned(NEXT)
    assert all("available" not in c for c in plan.problem["coach_types"])
    assert plan.problem["fleet_entered"] is False
    assert plan.scope["fleet_entered"] is False  # kept beside the problem for the plan page
    assert sum(len(t.seats) for t in plan.trips) == 60 and not plan.unassigned
    assert plan_display.shortages(plan) == []
    client = fleet_app.test_client()
    login(client, "admin", ADMIN_PASSWORD)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert 'id="no-fleet"' in page and "尚未录入车辆" in page and 'id="fleet-shortage"' not in page


def test_the_crew_form_offers_only_free_coaches_and_active_free_drivers(fleet_app):
    coaches, drivers, _ = small_fleet()
    drivers[3].active = False
    gone = add_driver("离职司机", "+8613800138009", active=False)
    trip = add_trip(add_plan(PLAN_DRAFT, NEXT), "D1", NEXT)
    db.session.commit()
    assert [c.plate for c in crew.coach_choices(trip)] == ["晋L·B5678"]
    assert [d.name for d in crew.driver_choices(trip)] == ["司机3"]
    trip.driver1, trip.driver2 = (
        drivers[0],
        gone,
    )  # set before: the active one stays offered, so saving keeps it
    db.session.commit()
    assert [d.name for d in crew.driver_choices(trip)] == ["司机1", "司机3"]


def test_deactivated_sites_and_employers_are_refused_for_new_workers_but_kept_for_old(fleet_app):
    add_workers(1, NEXT, dropoff="js-kunshan")
    worker = db.session.scalar(select(Worker))
    employer = Employer(name="昆山某电子厂", site_id="js-kunshan")
    db.session.add(employer)
    db.session.flush()
    worker.employer_id = employer.id
    db.session.get(Site, "js-kunshan").active = False
    employer.active = False
    db.session.commit()
    fresh = Lookups.load()
    assert fresh.destination("js-kunshan") is None and employer.id not in fresh.employers_by_id
    kept = Lookups.load(keep=worker)
    assert kept.destination("js-kunshan") is not None and employer.id in kept.employers_by_id


def test_the_no_fleet_flag_is_read_from_the_scope_or_the_stored_problem_by_the_database(
    tmp_path, db_url
):
    """The plan page reads the flag from the plan's scope; of an older plan, it asks the
    database for one key of the stored problem rather than decoding megabytes of JSON (SQLite
    and PostgreSQL)."""
    from dispatch.services import plan_queries

    app = make_app(tmp_path, db_url)
    with app.app_context():
        problems = {
            "no fleet": {"fleet_entered": False, "groups": []},
            "fleet": {"fleet_entered": True},
        }
        problems |= {"older plan": {"groups": []}, "none": None}
        plans = {
            name: Plan(status="draft", date_from=DAY, date_to=DAY, scope={}, problem=problem)
            for name, problem in problems.items()
        }
        # a plan whose scope keeps the flag (planning.with_problem_facts) is answered from it
        plans["kept"] = Plan(
            status="draft",
            date_from=DAY,
            date_to=DAY,
            scope={"fleet_entered": False},
            problem={"fleet_entered": True},
        )
        db.session.add_all(plans.values())
        db.session.commit()
        found = {name: plan_queries.planned_without_fleet(p) for name, p in plans.items()}
        db.session.remove()
        db.engine.dispose()
    assert found == {
        "no fleet": True,
        "fleet": False,
        "older plan": False,
        "none": False,
        "kept": True,
    }
