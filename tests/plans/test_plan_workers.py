"""Planning workers as real processes (`flask --app dispatch worker run`): one killed with SIGKILL
mid-plan and the plan finishing after a restart; two workers sharing PostgreSQL running six
queued plans two at a time, each exactly once."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from dispatch.extensions import db
from dispatch.models import Plan
from dispatch.services import plan_queue, planning
from tests.support.apps import make_app, seed_demo
from tests.support.gunicorn import app_env, children, flask_process, stop_processes

pytestmark = pytest.mark.slow
FAST = {
    "PLANNER_WORKERS": "1",
    "PLANNER_HEARTBEAT_S": "0.5",
    "PLANNER_STALE_S": "3",
    "PLANNER_POLL_S": "0.3",
}


def _worker(uri: str, log: Path) -> subprocess.Popen:
    return flask_process(["worker", "run"], app_env(uri, **FAST), log)


def _plans(app) -> dict[int, Plan]:
    with app.app_context():
        plans = db.session.query(Plan).all()
        for plan in plans:
            db.session.expunge(plan)
        db.session.remove()
        return {p.id: p for p in plans}


def _until(app, test, timeout: float, what: str) -> dict[int, Plan]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plans = _plans(app)
        if test(plans):
            return plans
        time.sleep(0.2)
    raise AssertionError(f"{what}: {[(p.id, p.status, p.claimed_by) for p in plans.values()]}")


def _queue(app, count: int, limit: float) -> list[int]:
    with app.app_context():
        ids = [
            plan_queue.queue_plan(
                planning.Scope(date(2026, 2, 28), date(2026, 3, 3)), None, limit
            ).id
            for _ in range(count)
        ]
        db.session.commit()
        return ids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_killed_mid_plan_leaves_a_plan_the_restarted_worker_finishes(demo_app, tmp_path):
    uri = demo_app.config["SQLALCHEMY_DATABASE_URI"]
    [plan_id] = _queue(demo_app, 1, limit=6)
    first = _worker(uri, tmp_path / "first.log")
    try:
        owner = f"{socket.gethostname()} pid {first.pid}"
        _until(
            demo_app,
            lambda p: p[plan_id].claimed_by == owner and p[plan_id].progress > 0,
            30,
            "the first worker never got going",
        )
        solvers = children(first.pid)
        assert solvers, "the plan is solved in a child process"
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        deadline = time.monotonic() + 5  # the orphaned solver notices and ends itself
        while any(_alive(pid) for pid in solvers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in solvers)
        assert _plans(demo_app)[plan_id].status == "running"  # until its heartbeat goes stale
    finally:
        stop_processes(first)
    second = _worker(uri, tmp_path / "second.log")
    try:
        plans = _until(
            demo_app, lambda p: p[plan_id].status == "draft", 60, "the plan never finished"
        )
    finally:
        stop_processes(second)
    plan = plans[plan_id]
    assert (plan.attempts, plan.restarts) == (2, 1)
    assert plan.claimed_by == f"{socket.gethostname()} pid {second.pid}"
    with demo_app.app_context():
        assert len(db.session.get(Plan, plan_id).trips) > 0


@pytest.mark.postgres
def test_two_workers_on_postgres_run_six_plans_two_at_a_time_each_exactly_once(tmp_path, pg_url):
    app = make_app(tmp_path, pg_url)
    with app.app_context():
        seed_demo(60)
        db.session.commit()
    ids = _queue(app, 6, limit=2)
    workers = [_worker(pg_url, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        plans = _until(
            app,
            lambda p: all(p[i].status == "draft" for i in ids),
            180,
            "the six plans did not all finish",
        )
    finally:
        stop_processes(*workers)
        with app.app_context():
            db.engine.dispose()
    owners = {f"{socket.gethostname()} pid {w.pid}" for w in workers}
    assert {plans[i].claimed_by for i in ids} == owners  # both machines took their share
    assert all((plans[i].attempts, plans[i].restarts) == (1, 0) for i in ids)  # each once
    spans = [(plans[i].started_at, plans[i].finished_at) for i in ids]
    overlaps = [sum(1 for s, f in spans if s <= moment < f) for moment, _ in spans]
    assert max(overlaps) == 2  # two at a time, never three
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(2))
    assert "Traceback" not in logs, logs[-3000:]
