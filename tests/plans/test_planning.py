"""Planning from the database: problem export, plan run, storing, publishing, the web pages."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import Coach, Plan, SeatAssignment, Trip, Worker, utcnow
from dispatch.services import plan_queue, planning, publishing
from tests.support.apps import login
from tests.support.drafts import planned_draft
from tests.support.plans import plan_from_rows

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
        stored = plan_from_rows(plan)
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


def test_web_planning_runs_in_the_background_and_shows_the_draft(client, demo_app, planning_worker):
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


# --- Issue 15: plans a coordinator can run, check and publish safely ---------------------

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
BEFORE = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)  # days before every demo trip


def test_the_plan_form_refuses_bad_input_on_its_fields_and_stores_nothing(client, demo_app):
    login(client)
    cases = [
        (
            {"date_from": "2026-03-01", "date_to": "2026-03-02", "time_limit": "abc"},
            "请输入1到600之间的秒数",
        ),
        (
            {"date_from": "2026-03-01", "date_to": "2026-03-02", "time_limit": "601"},
            "请输入1到600之间的秒数",
        ),
        (
            {"date_from": "2026-03-01", "date_to": "2026-03-02", "time_limit": "nan"},
            "请输入1到600之间的秒数",
        ),
        (
            {"date_from": "2026-03-02", "date_to": "2026-03-01", "time_limit": "2"},
            "结束日期不能早于开始日期",
        ),
        (
            {"date_from": "2026-03-01", "date_to": "2126-03-01", "time_limit": "2"},
            "一次计划最多覆盖 92 天",
        ),
        ({"date_from": "", "date_to": "2026-03-01"}, "请选择日期"),
        ({"date_from": "2026-13-01", "date_to": "2026-03-01"}, "请按 2026-03-01 的格式填写日期"),
    ]
    for data, message in cases:
        response = client.post("/plans/", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and message in page, (data, page[:3000])
        assert 'aria-invalid="true"' in page
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 0


def test_a_plan_left_running_by_a_vanished_process_is_queued_again_and_can_be_cancelled(
    client, demo_app
):
    with demo_app.app_context():
        silent = planning.start_plan(planning.Scope(DAY2, DAY2), None, time_limit_s=5)
        silent.created_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        silent_id = silent.id
        assert plan_queue.is_interrupted(silent, utcnow(), 30)
        assert not plan_queue.is_interrupted(silent, silent.created_at + timedelta(seconds=20), 30)
    login(client)
    page = client.get(f"/plans/{silent_id}").get_data(as_text=True)
    assert 'id="plan-stalled"' in page and 'id="cancel-plan"' in page  # said, until a worker looks
    with demo_app.app_context():  # what the next worker that looks at the queue does first
        assert plan_queue.reap_stale(utcnow(), 30) == 1
    page = client.get(f"/plans/{silent_id}").get_data(as_text=True)
    assert 'id="plan-restarted"' in page and 'id="plan-queued"' in page
    assert 'http-equiv="refresh"' in page  # it waits for a worker and says so as it goes
    assert client.post(f"/plans/{silent_id}/cancel").status_code == 302
    with demo_app.app_context():
        plan = db.session.get(Plan, silent_id)
        assert (plan.status, plan.restarts) == ("cancelled", 1)
    assert client.post(f"/plans/{silent_id}/discard").status_code == 400


def test_bus_codes_are_unique_in_the_season_and_buses_sort_by_number(demo_app):
    with demo_app.app_context():
        west = planned_draft(
            planning.Scope(date(2026, 2, 28), date(2026, 3, 4), ("fenxi", "houma", "quwo"))
        )
        east = planned_draft(
            planning.Scope(date(2026, 2, 28), date(2026, 3, 4), ("daning", "xiangning", "jixian"))
        )
        codes_w, codes_e = {t.code for t in west.trips}, {t.code for t in east.trips}
        assert codes_w and codes_e and not codes_w & codes_e
        numbers = [t.number for t in west.trips] + [t.number for t in east.trips]
        assert sorted(numbers) == list(
            range(1, len(numbers) + 1)
        )  # no gaps: the smallest free ones
        for plan in (west, east):
            keys = [(t.date, t.number) for t in plan.trips]
            assert keys == sorted(keys)
        publishing.publish(west, None, BEFORE, demo_app.config)
        db.session.commit()
        again = planned_draft(
            planning.Scope(date(2026, 2, 28), date(2026, 3, 4), ("daning", "xiangning", "jixian")),
            east,
        )
        assert not {t.code for t in again.trips} & codes_w  # published codes stay theirs
        assert [t.code for t in west.trips] == sorted(codes_w, key=lambda c: int(c[1:]))


def test_a_season_runs_october_to_september():
    from dispatch.services.bus_codes import free_numbers, season_of

    assert (
        season_of(date(2026, 12, 23))
        == season_of(date(2027, 3, 1))
        == (date(2026, 10, 1), date(2027, 9, 30))
    )
    assert season_of(date(2027, 9, 30)) != season_of(date(2027, 10, 1))
    assert free_numbers({1, 2, 4}, 3) == [3, 5, 6]


def test_trip_number_follows_its_code():
    trip = Trip(code="T12")
    assert trip.number == 12
    trip.code = "T3"
    assert trip.number == 3


def _starve_the_fleet() -> None:
    """Leave one coach: most groups go unserved, with a reason."""
    for coach in db.session.scalars(select(Coach).order_by(Coach.id)).all()[1:]:
        coach.active = False
    db.session.commit()


def test_a_county_coordinator_reads_a_city_plan_without_other_names_and_cannot_change_it(
    client, demo_app
):
    with demo_app.app_context():
        _starve_the_fleet()
        plan = planned_draft(planning.Scope(DAY1, DAY2))
        plan_id = plan.id
        unserved = [int(m[1:]) for u in plan.unassigned for m in u["workers"]]
        workers = db.session.scalars(select(Worker).where(Worker.id.in_(unserved))).all()
        own = [w.name for w in workers if w.county_id == "hongtong"]
        others = [w.name for w in workers if w.county_id != "hongtong"]
        assert others
    login(client, "hong", "coord-pass-123")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "（其他县区）" in page and all(name in page for name in own)
    assert not [name for name in others if name in page and name not in own]
    assert 'id="publish"' not in page and 'id="replan"' not in page and 'id="not-yours"' in page
    assert client.get(f"/plans/{plan_id}/publish").status_code == 403
    for action in ("publish", "replan", "discard"):
        assert client.post(f"/plans/{plan_id}/{action}").status_code == 403
    with demo_app.app_context():
        assert db.session.get(Plan, plan_id).status == "draft"
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 1


def test_a_county_coordinator_publishes_a_plan_of_their_own_county(client, demo_app):
    with demo_app.app_context():
        plan_id = planned_draft(planning.Scope(DAY1, DAY2, ("hongtong",))).id
    with time_machine.travel(BEFORE, tick=True):
        login(client, "hong", "coord-pass-123")
        assert "短信" in client.get(f"/plans/{plan_id}/publish").get_data(as_text=True)
        assert client.post(f"/plans/{plan_id}/publish").status_code == 302
    with demo_app.app_context():
        assert db.session.get(Plan, plan_id).status == "published"


def test_publishing_two_overlapping_drafts_seats_each_worker_once(tmp_path, db_url):
    """Drafts for 03-01 and 03-02 both seat the workers free on either day; a worker withdrawn
    after planning is in the second. Publishing both seats each worker once, drops the rest
    with a reason, and sends the dropped nothing (SQLite and PostgreSQL)."""
    from dispatch.models import OutboundMessage
    from dispatch.services import publishing
    from tests.support.apps import make_app, seed_demo

    app = make_app(tmp_path, db_url)
    with app.app_context():
        seed_demo()
        db.session.commit()
        first, second = (
            planned_draft(planning.Scope(DAY1, DAY1)),
            planned_draft(planning.Scope(DAY2, DAY2)),
        )
        in_first = {s.worker_id for t in first.trips for s in t.seats}
        in_second = {s.worker_id: s for t in second.trips for s in t.seats}
        twice = in_first & set(in_second)
        assert twice, "the demo has workers free on both days"
        quitter = db.session.get(Worker, next(w for w in sorted(in_second) if w not in in_first))
        quitter.status = "cancelled"
        db.session.commit()
        preview = publishing.publish_preview(second, app.config, BEFORE)
        assert {d.worker_id for d in preview.drops} == {quitter.id}  # nothing published yet
        publishing.publish(first, None, BEFORE, app.config)
        db.session.commit()
        result = publishing.publish(second, None, BEFORE, app.config)
        db.session.commit()
        reasons = {d.worker_id: d.reason for d in result.drops}
        assert reasons == {
            **{w: publishing.SEATED_ELSEWHERE for w in twice},
            quitter.id: publishing.WITHDRAWN,
        }
        live = db.session.execute(
            select(SeatAssignment.worker_id, func.count())
            .join(Plan, Plan.id == SeatAssignment.plan_id)
            .where(Plan.status == "published")
            .group_by(SeatAssignment.worker_id)
        ).all()
        assert live and max(n for _, n in live) == 1
        published = (
            select(Trip).join(Plan, Plan.id == Trip.plan_id).where(Plan.status == "published")
        )
        assert all(t.seats for t in db.session.scalars(published))  # no bus runs empty
        second_trips = [t.id for t in second.trips]
        told = db.session.scalars(
            select(OutboundMessage.worker_id).where(OutboundMessage.trip_id.in_(second_trips))
        ).all()
        assert told and not set(told) & set(
            reasons
        )  # the dropped hear nothing about the second plan
        assert not db.session.scalars(select(OutboundMessage).filter_by(worker_id=quitter.id)).all()
        dropped = [u for u in db.session.get(Plan, second.id).unassigned if u.get("dropped")]
        assert {int(u["workers"][0][1:]) for u in dropped} == set(reasons)
        db.session.remove()
        db.engine.dispose()


def test_the_plan_pages_read_in_english_too(client, demo_app):
    with demo_app.app_context():
        plan = planning.start_plan(planning.Scope(DAY1, DAY1, ("hongtong",)), None, time_limit_s=5)
        plan.progress_message = "improving"
        db.session.commit()
        running_id = plan.id
        draft_id = planned_draft(planning.Scope(DAY2, DAY2, ("hongtong",))).id
    with time_machine.travel(BEFORE, tick=True):
        login(client)
        client.post("/language", data={"lang": "en"})
        assert "improving" in client.get(f"/plans/{running_id}").get_data(as_text=True)
        page = client.get(f"/plans/{draft_id}/publish").get_data(as_text=True)
        # Its buses have no coach yet: their workers would be told they are on the list.
        assert f"Publish plan {draft_id}?" in page and "On the list, bus to follow" in page
        client.post("/language", data={"lang": "zh_Hans_CN"})
        assert "正在改进方案" in client.get(f"/plans/{running_id}").get_data(as_text=True)


def test_a_draft_with_no_bus_says_why_and_is_not_offered_for_publishing(client, demo_app):
    with demo_app.app_context():
        nobody_then = planning.Scope(date(2026, 3, 20), date(2026, 3, 21))
        empty_id = planned_draft(nobody_then).id
        _starve_the_fleet()
        for coach in db.session.scalars(select(Coach)):
            coach.active = False
        db.session.commit()
        stuck_id = planned_draft(planning.Scope(DAY1, DAY1, ("hongtong",))).id  # no coach at all
    login(client)
    page = client.get(f"/plans/{empty_id}").get_data(as_text=True)
    assert (
        'id="no-buses"' in page and "没有待乘车的已登记人员" in page and 'id="publish"' not in page
    )
    page = client.get(f"/plans/{stuck_id}").get_data(as_text=True)
    assert 'id="no-buses"' in page and "原因见下表" in page and 'id="publish"' not in page
    assert "没有 " in page or "已无空余车辆" in page  # the planner's reason, in Chinese
    client.post(f"/plans/{stuck_id}/publish")
    assert "只有至少含一辆车的草稿方案才能发布" in client.get(f"/plans/{stuck_id}").get_data(
        as_text=True
    )
    with demo_app.app_context():
        assert db.session.get(Plan, stuck_id).status == "draft"
