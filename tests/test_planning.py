"""Planning from the database: problem export, plan run, storing, publishing, the web pages."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import Plan, SeatAssignment, Trip, Worker
from dispatch.services import planning
from tests.conftest import login

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]


def test_planner_export_is_a_valid_problem_of_the_open_demand(demo_app, tmp_path):
    out = tmp_path / "problem.json"
    result = demo_app.test_cli_runner().invoke(args=["planner", "export", *WINDOW, "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    problem = planner.load_problem(data)
    assert sum(g.size for g in problem.groups.values()) == 200
    members = [m for g in problem.groups.values() for m in g.members]
    assert len(members) == len(set(members)) == 200
    assert set(problem.coach_types) == {"c33", "c45", "c53"}


def test_plan_run_prints_the_id_first_then_publish_seats_everyone(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["plan", "run", *WINDOW, "--time-limit", "3"])
    assert result.exit_code == 0, result.output
    plan_id = int(result.output.splitlines()[0])
    with demo_app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.status == "draft" and plan.trips
        problem = planner.load_problem(plan.problem)  # extra keys are ignored by readers
        stored = _plan_from_rows(plan)
        assert planner.check(problem, stored) == []  # what was stored keeps every rule
        for trip in plan.trips:
            etas = [s.eta for s in trip.stops]
            assert etas == sorted(etas) and trip.stops[0].eta == trip.departure_at
    published = runner.invoke(args=["plan", "publish", str(plan_id)])
    assert published.exit_code == 0, published.output
    with demo_app.app_context():
        seated = db.session.scalar(select(func.count()).select_from(SeatAssignment))
        assigned = db.session.scalar(select(func.count()).where(Worker.status == "assigned"))
        assert seated == assigned > 0
    again = runner.invoke(args=["plan", "publish", str(plan_id)])
    assert again.exit_code != 0 and "not a draft" in again.output


def _plan_from_rows(plan: Plan) -> planner.Plan:
    """Rebuild the planner's plan from the stored trips, to score it with the checker."""
    by_member = {m: g["id"] for g in plan.problem["groups"] for m in g["members"]}
    trips = []
    for trip in plan.trips:
        seats = {f"w{s.worker_id}": s.seat_no for s in trip.seats}
        groups = {by_member[m] for m in seats}
        stops = []
        for stop in trip.stops:
            here = sorted(
                g
                for g in groups
                if _group(plan, g)["pickup" if stop.kind == "pickup" else "dropoff"] == stop.site_id
            )
            stops.append(
                {
                    "site": stop.site_id,
                    "pickup": here if stop.kind == "pickup" else [],
                    "dropoff": here if stop.kind == "dropoff" else [],
                }
            )
        trips.append(
            {
                "id": trip.code,
                "date": trip.date.isoformat(),
                "coach_type": trip.coach_type_id,
                "stops": stops,
                "seats": seats,
                "km": trip.km,
                "cost": trip.cost,
            }
        )
    summary = {
        "cost": plan.cost,
        "buses": len(trips),
        "lower_bound_cost": plan.lower_bound_cost,
        "gap": plan.gap,
        "seconds": plan.seconds or 0,
    }
    unassigned = [{"group": u["group"], "reason": u["reason"]} for u in plan.unassigned]
    return planner.plan_from_dict(
        {"format": "dispatch-plan/1", "trips": trips, "unassigned": unassigned, "summary": summary}
    )


def _group(plan: Plan, group_id: str) -> dict:
    return next(g for g in plan.problem["groups"] if g["id"] == group_id)


def test_web_planning_runs_in_the_background_and_shows_the_draft(client, demo_app):
    login(client)
    response = client.post(
        "/plans/", data={"date_from": "2026-02-28", "date_to": "2026-03-03", "time_limit": "2"}
    )
    assert response.status_code == 302
    plan_url = response.location
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = client.get(plan_url).get_data(as_text=True)
        if 'http-equiv="refresh"' not in page:
            break
        time.sleep(0.3)
    assert 'id="plan-buses"' in page, page[:2000]
    with demo_app.app_context():
        plan = db.session.scalars(select(Plan)).one()
        assert plan.status == "draft"
        assert f'id="plan-seated">{sum(len(t.seats) for t in plan.trips)}<' in page
        first: Trip = plan.trips[0]
        assert first.stops[0].site.name_zh in page
    published = client.post(f"{plan_url}/publish")
    assert published.status_code == 302
    with demo_app.app_context():
        assert db.session.scalars(select(Plan)).one().status == "published"


def test_coordinator_plans_only_own_counties(client, demo_app):
    login(client, "hong", "coord-pass-123")
    with demo_app.app_context():
        plan = planning.start_plan(
            planning.Scope(
                __import__("datetime").date(2026, 2, 28),
                __import__("datetime").date(2026, 3, 3),
                ("hongtong",),
            ),
            None,
        )
        counties = {
            db.session.get(Worker, int(m[1:])).county_id
            for g in plan.problem["groups"]
            for m in g["members"]
        }
        assert counties == {"hongtong"}
        db.session.rollback()
    client.post(
        "/plans/",
        data={
            "date_from": "2026-02-28",
            "date_to": "2026-03-03",
            "time_limit": "1",
            "county": ["xixian"],
        },
    )
    with demo_app.app_context():
        plan = db.session.scalars(select(Plan)).one()
        assert plan.scope["counties"] == ["hongtong"]


def test_viewer_cannot_plan(client):
    login(client, "viewer", "coord-pass-123")
    assert (
        client.post(
            "/plans/", data={"date_from": "2026-02-28", "date_to": "2026-03-01"}
        ).status_code
        == 403
    )
