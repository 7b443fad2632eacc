"""Planning as a durable job (issue 21): queue, claim, heartbeat, cancel and take-up again,
with the solver in a real child process and the database the deployment uses."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.jobs import planning_worker
from dispatch.models import Plan, Trip, utcnow
from dispatch.services import plan_queue, planning
from tests.support.apps import login

WEEK = planning.Scope(date(2026, 2, 28), date(2026, 3, 3))


def _queue(app, scope: planning.Scope = WEEK, limit: float = 1) -> int:
    with app.app_context():
        plan = plan_queue.queue_plan(scope, None, limit)
        db.session.commit()
        return plan.id


def _plan(app, plan_id: int) -> Plan:
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        db.session.expunge(plan)
        return plan


def _wait(app, plan_id: int, test, timeout: float = 30) -> Plan:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plan = _plan(app, plan_id)
        if test(plan):
            return plan
        time.sleep(0.1)
    raise AssertionError(f"plan {plan_id} stayed {plan.status} ({plan.progress_message})")


def test_a_queued_plan_is_claimed_once_and_finishes_as_a_draft(demo_app):
    first, second = (
        _queue(demo_app),
        _queue(demo_app, planning.Scope(date(2026, 3, 1), date(2026, 3, 1))),
    )
    with demo_app.app_context():
        assert plan_queue.queue_positions() == {first: 1, second: 2}
        assert db.session.get(Plan, first).status == "queued"
    assert planning_worker.drain(demo_app) == ["draft", "draft"]
    for plan_id in (first, second):
        plan = _plan(demo_app, plan_id)
        assert (plan.status, plan.attempts, plan.restarts) == ("draft", 1, 0)
        assert plan.claim_token is None and plan.claimed_by.endswith(
            f"pid {__import__('os').getpid()}"
        )
        assert plan.heartbeat_at is not None and plan.finished_at >= plan.started_at
        with demo_app.app_context():  # what the plan page tells of the problem, kept beside it
            stored = db.session.get(Plan, plan_id)
            assert stored.scope["fleet_entered"] is stored.problem["fleet_entered"] is True
            assert stored.scope["counties"] == [] and stored.scope["base_plan"] is None
    with demo_app.app_context():
        assert plan_queue.queue_positions() == {}
        assert db.session.scalar(select(func.count(Trip.id)).where(Trip.plan_id == first)) > 0
        assert plan_queue.claim_next("nobody", 30) is None


def test_bad_requests_are_refused_before_anything_is_queued(demo_app):
    with demo_app.app_context():
        with pytest.raises(plan_queue.QueueRefusal) as backwards:
            plan_queue.queue_plan(planning.Scope(date(2026, 3, 2), date(2026, 3, 1)), None, 5)
        assert backwards.value.field == "date_to"
        nobody = planning.Scope(date(2027, 6, 1), date(2027, 6, 2))
        with pytest.raises(plan_queue.QueueRefusal) as empty:
            plan_queue.queue_plan(nobody, None, 5)
        assert empty.value.field == "scope"
        assert "没有等待出行的务工人员" in str(empty.value)
        too_long = planning.Scope(date(2026, 3, 1), date(2026, 6, 1))  # 93 dates
        with pytest.raises(plan_queue.QueueRefusal) as long_:
            plan_queue.queue_plan(too_long, None, 5)
        assert long_.value.field == "date_to" and "最多覆盖 92 天" in str(long_.value)
        with pytest.raises(planning.PlanningError, match="最多覆盖 92 天"):
            planning.build_problem(too_long)
        db.session.commit()
        assert db.session.scalar(select(func.count(Plan.id))) == 0


def test_cancel_while_queued_leaves_nothing_to_claim(demo_app):
    plan_id = _queue(demo_app)
    with demo_app.app_context():
        assert plan_queue.cancel(db.session.get(Plan, plan_id), None)
    assert planning_worker.drain(demo_app) == []
    assert _plan(demo_app, plan_id).status == "cancelled"


def test_cancel_while_running_stops_the_solver_within_seconds_and_keeps_nothing(demo_app):
    demo_app.config["PLANNER_HEARTBEAT_S"] = 0.3
    plan_id = _queue(demo_app, limit=60)
    worker = planning_worker.PlanningWorker(demo_app, slots=1)
    assert worker.step() == 1
    running = _wait(demo_app, plan_id, lambda p: p.status == "running" and p.progress > 0)
    assert running.claimed_by == planning_worker.owner_name()
    with demo_app.app_context():
        assert plan_queue.cancel(db.session.get(Plan, plan_id), None)
    started = time.monotonic()
    worker.running[plan_id].join(10)
    assert not worker.running[plan_id].is_alive() and time.monotonic() - started < 5
    plan = _plan(demo_app, plan_id)
    assert plan.status == "cancelled" and plan.progress < 1
    with demo_app.app_context():
        assert db.session.scalar(select(func.count(Trip.id)).where(Trip.plan_id == plan_id)) == 0
        assert not plan_queue.cancel(db.session.get(Plan, plan_id), None)  # already over


def test_a_plan_whose_heartbeat_went_stale_is_taken_up_again_then_fails_after_its_tries(demo_app):
    plan_id = _queue(demo_app)
    now = utcnow()
    for attempt in range(1, plan_queue.MAX_ATTEMPTS + 1):
        with demo_app.app_context():
            claim = plan_queue.claim_next(f"worker {attempt}", 30)
            assert claim is not None and claim.plan_id == plan_id
            assert plan_queue.beat(claim, 0.2, "greedy plan")
            assert plan_queue.reap_stale(utcnow(), 30) == 0  # a live heartbeat keeps the claim
            later = now + timedelta(minutes=attempt)
            assert plan_queue.reap_stale(later, 30) == 1
            assert not plan_queue.beat(claim)  # the old worker learns it lost the plan
            plan = db.session.get(Plan, plan_id)
            assert plan.attempts == attempt and plan.claim_token is None
            if attempt < plan_queue.MAX_ATTEMPTS:
                assert (plan.status, plan.restarts) == ("queued", attempt)
    plan = _plan(demo_app, plan_id)
    assert (plan.status, plan.error) == ("failed", plan_queue.INTERRUPTED)


def test_a_stopping_worker_gives_its_plan_back_to_the_queue(demo_app):
    demo_app.config["PLANNER_HEARTBEAT_S"] = 0.3
    plan_id = _queue(demo_app, limit=60)
    worker = planning_worker.PlanningWorker(demo_app, slots=1)
    worker.step()
    _wait(demo_app, plan_id, lambda p: p.progress > 0)
    worker.stop(10)
    plan = _plan(demo_app, plan_id)
    assert (plan.status, plan.attempts, plan.restarts) == ("queued", 0, 1)


def test_a_failing_build_fails_the_plan_with_its_reason(demo_app, monkeypatch):
    plan_id = _queue(demo_app)

    def broken(*args, **kwargs):
        raise RuntimeError('demand exploded: UPDATE "plan" SET progress=?')

    monkeypatch.setattr(planning, "build_problem", broken)
    assert planning_worker.drain(demo_app) == ["failed"]
    plan = _plan(demo_app, plan_id)
    assert plan.status == "failed" and "demand exploded" in plan.error  # whole, for the API
    client = demo_app.test_client()
    login(client)
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "编排程序因意外错误中止" in page and f"方案 {plan_id}" in page
    assert "UPDATE" not in page and "RuntimeError" not in page  # no SQL shown to a coordinator


def test_overlapping_scopes_are_found_and_separate_ones_are_not(demo_app):
    hongtong = planning.Scope(date(2026, 3, 1), date(2026, 3, 2), ("hongtong",))
    _queue(demo_app, hongtong)
    with demo_app.app_context():
        assert [p.date_from for p in plan_queue.overlapping(WEEK)] == [date(2026, 3, 1)]
        other_county = planning.Scope(date(2026, 3, 1), date(2026, 3, 2), ("xixian",))
        assert plan_queue.overlapping(other_county) == []
        other_days = planning.Scope(date(2026, 3, 3), date(2026, 3, 3))
        assert plan_queue.overlapping(other_days) == []


@pytest.mark.postgres
def test_two_workers_racing_for_one_queued_plan_on_postgres_one_wins(tmp_path, pg_url):
    from tests.support.apps import make_app, seed_demo

    app = make_app(tmp_path, pg_url)
    with app.app_context():
        seed_demo(40)
        db.session.commit()
    for _ in range(5):
        plan_id = _queue(app)
        barrier, won = threading.Barrier(4), []

        def race(name: str, barrier=barrier, won=won) -> None:
            with app.app_context():
                barrier.wait()
                claim = plan_queue.claim_next(name, 30)
                if claim is not None:
                    won.append((name, claim.plan_id))
                db.session.remove()

        racers = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(4)]
        for thread in racers:
            thread.start()
        for thread in racers:
            thread.join(10)
        assert [p for _, p in won] == [plan_id]
        plan = _plan(app, plan_id)
        assert (plan.status, plan.attempts, plan.claimed_by) == ("running", 1, won[0][0])
        with app.app_context():
            assert plan_queue.cancel(db.session.get(Plan, plan_id), None)
    with app.app_context():
        db.engine.dispose()


def test_a_plan_storing_its_draft_gets_longer_before_it_counts_as_interrupted(demo_app):
    plan_id = _queue(demo_app)
    with demo_app.app_context():
        claim = plan_queue.claim_next("worker", 30)
        assert plan_queue.beat(claim, 0.99, plan_queue.STORING)
        plan = db.session.get(Plan, plan_id)
        later = plan.heartbeat_at + timedelta(seconds=60)
        assert not plan_queue.is_interrupted(plan, later, 30)
        assert plan_queue.reap_stale(later, 30) == 0
        much_later = plan.heartbeat_at + timedelta(seconds=30 * plan_queue.STORING_GRACE + 1)
        assert plan_queue.is_interrupted(plan, much_later, 30)
        assert plan_queue.reap_stale(much_later, 30) == 1


def test_the_command_line_refuses_a_period_too_long_and_queues_nothing(demo_app):
    runner = demo_app.test_cli_runner()
    for command in (["plan", "run"], ["planner", "export"]):
        result = runner.invoke(args=[*command, "--from", "2026-03-01", "--to", "2062-03-01"])
        assert result.exit_code == 1 and "一次计划最多覆盖 92 天" in result.output, result.output
    with demo_app.app_context():
        assert db.session.scalar(select(func.count(Plan.id))) == 0
