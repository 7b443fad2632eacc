"""Issue 21 as a new user tries it, under README's deployment: PostgreSQL migrated by
`flask db upgrade`, gunicorn, one scheduler and one extra planning worker. A coordinator starts
three plans in Chromium and sees the queue and the progress; the worker running one plan is
killed; all three end as drafts, the interrupted one saying it was restarted."""

from __future__ import annotations

import signal
import socket
import time

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Plan
from tests.support.apps import ADMIN_PASSWORD, make_app, seed_demo
from tests.support.browser import _watched_page, log_in
from tests.support.gunicorn import (
    Gunicorn,
    app_env,
    dispose,
    flask_process,
    migrate,
    stop_processes,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]
PLANNING = {
    "PLANNER_WORKERS": "1",
    "PLANNER_HEARTBEAT_S": "0.5",
    "PLANNER_STALE_S": "4",
    "PLANNER_POLL_S": "0.3",
}
DAYS = [("2026-02-28", "2026-03-01"), ("2026-03-02", "2026-03-02"), ("2026-03-03", "2026-03-03")]


def _plans(app) -> list[Plan]:
    with app.app_context():
        plans = db.session.scalars(select(Plan).order_by(Plan.id)).all()
        for plan in plans:
            db.session.expunge(plan)
        db.session.remove()
        return plans


def _until(app, test, timeout: float, what: str) -> list[Plan]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plans = _plans(app)
        if test(plans):
            return plans
        time.sleep(0.2)
    raise AssertionError(f"{what}: {[(p.id, p.status, p.claimed_by) for p in plans]}")


@pytest.fixture
def deployment(pg_url, tmp_path):
    """The database migrated as a release does, with the demo workers and no plan yet."""
    migrate(pg_url)
    app = make_app(tmp_path, pg_url)
    with app.app_context():
        seed_demo()
        db.session.commit()
    yield app
    dispose(app)


def test_three_plans_from_the_browser_survive_a_killed_worker(
    deployment, pg_url, tmp_path, chromium, shot
):
    env = app_env(pg_url, SCHEDULER_TICK_S="1", **PLANNING)
    web = Gunicorn(app_env(pg_url), tmp_path / "gunicorn.log", workers=2)
    scheduler = flask_process(["scheduler", "run"], env, tmp_path / "scheduler.log")
    worker = flask_process(["worker", "run"], env, tmp_path / "worker.log")
    pages = _watched_page(chromium, web.url, viewport={"width": 1280, "height": 900})
    page = next(pages)
    try:
        web.wait_ready()
        log_in(page, "admin", ADMIN_PASSWORD)
        for first, last in DAYS:
            page.goto("/plans/")
            page.get_by_label("从", exact=True).fill(first)
            page.get_by_label("至", exact=True).fill(last)
            page.get_by_label("时间上限（秒）").fill("8")
            page.get_by_role("button", name="开始编排").click()
            page.wait_for_url("**/plans/*")
        page.goto("/plans/")
        rows = page.locator("#plans tbody tr")
        assert rows.count() == 3
        shot(page, "three-plans")
        text = page.locator("#plans").inner_text()
        assert "排队第1位" in text and "编排中…" in text, text  # two planning processes, 3 plans
        extra = f"{socket.gethostname()} pid {worker.pid}"
        plans = _until(
            deployment,
            lambda ps: any(p.claimed_by == extra and p.progress > 0 for p in ps),
            60,
            "the extra worker never ran a plan",
        )
        [victim] = [p.id for p in plans if p.claimed_by == extra]
        page.goto(f"/plans/{victim}")
        page.locator("#plan-worker").wait_for()
        assert extra in page.locator("#plan-worker").inner_text()
        shot(page, "running-on-the-extra-worker")
        worker.send_signal(signal.SIGKILL)
        worker.wait(5)
        plans = _until(
            deployment,
            lambda ps: all(p.status == "draft" for p in ps),
            150,
            "not every plan ended as a draft",
        )
        assert [p.restarts for p in plans if p.id == victim] == [1]
        assert all(p.restarts == 0 for p in plans if p.id != victim)
        page.goto(f"/plans/{victim}")
        page.locator("#plan-buses").wait_for()
        assert "中断后重新开始" in page.locator("#plan-restarted").inner_text()
        shot(page, "restarted-draft")
        page.goto("/plans/")
        assert page.locator("#plans").inner_text().count("草稿") == 3
    finally:
        stop_processes(worker, scheduler)
        web.stop()
        next(pages, None)
    for name in ("scheduler.log", "worker.log", "gunicorn.log"):
        log = (tmp_path / name).read_text()
        assert "Traceback" not in log, f"{name}:\n{log[-3000:]}"
