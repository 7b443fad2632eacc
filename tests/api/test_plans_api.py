"""GET /api/v1/plans/<id> (CONTRACTS.md §5): a plan's state as a job, as a script polls it (its
answers are checked against the OpenAPI document in test_api_schema.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.jobs import planning_worker
from dispatch.models import Plan
from dispatch.services import plan_queue, planning
from tests.support.workers import token_for


def _queue(app, first: date, last: date) -> int:
    with app.app_context():
        plan = plan_queue.queue_plan(planning.Scope(first, last), None, 1)
        db.session.commit()
        return plan.id


def test_a_script_follows_a_plan_from_the_queue_to_its_draft(client, demo_app):
    headers = token_for(demo_app, "viewer")
    first = _queue(demo_app, date(2026, 2, 28), date(2026, 3, 1))
    second = _queue(demo_app, date(2026, 3, 2), date(2026, 3, 3))
    answer = client.get(f"/api/v1/plans/{second}", headers=headers)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["status"], body["queue_position"], body["progress"]) == ("queued", 2, 0)
    assert (body["date_from"], body["error"], body["claimed_by"]) == ("2026-03-02", None, None)
    assert planning_worker.drain(demo_app) == ["draft", "draft"]
    body = client.get(f"/api/v1/plans/{first}", headers=headers).get_json()
    assert (body["status"], body["queue_position"], body["progress"]) == ("draft", None, 1.0)
    assert body["attempts"] == 1 and body["cost"] > 0 and body["finished_at"]
    assert body["claimed_by"] == planning_worker.owner_name()


def test_unknown_plans_are_404_and_no_token_is_401(client, demo_app):
    headers = token_for(demo_app, "viewer")
    missing = client.get("/api/v1/plans/999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.get("/api/v1/plans/1").status_code == 401


def test_a_period_too_long_or_backwards_is_refused_on_its_field_in_the_callers_language(
    client, demo_app
):
    headers = token_for(demo_app, "hong")
    cases = [
        ({"date_from": "2026-03-01", "date_to": "2062-03-01"}, "一次计划最多覆盖 92 天"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "结束日期不能早于开始日期"),
    ]
    for body, words in cases:
        answer = client.post("/api/v1/plans", json=body, headers=headers)
        assert answer.status_code == 422, answer.get_json()
        assert words in answer.get_json()["fields"]["date_to"]
    english = {**headers, "Accept-Language": "en"}
    answer = client.post("/api/v1/plans", json=cases[0][0], headers=english)
    assert "at most 92 days" in answer.get_json()["fields"]["date_to"]
    # the longest period allowed is queued
    last = {"date_from": "2026-01-01", "date_to": "2026-04-02"}  # 92 dates
    assert client.post("/api/v1/plans", json=last, headers=headers).status_code == 202
    with demo_app.app_context():
        assert [p.date_to for p in db.session.scalars(select(Plan))] == [date(2026, 4, 2)]


def test_a_county_coordinator_asking_for_another_county_is_told_so_and_nothing_is_queued(
    client, demo_app
):
    """侯马市 asked by 洪洞县's coordinator was dropped in silence and his own county planned
    instead, or "no waiting workers" answered."""
    headers = token_for(demo_app, "hong")
    body = {"date_from": "2026-03-01", "date_to": "2026-03-02", "counties": ["houma"]}
    answer = client.post("/api/v1/plans", json=body, headers=headers)
    assert answer.status_code == 422, answer.get_json()
    assert "只能编排您负责的县区：houma" in answer.get_json()["fields"]["counties"]
    with demo_app.app_context():
        assert db.session.scalar(select(Plan.id)) is None
    mine = client.post("/api/v1/plans", json={**body, "counties": ["hongtong"]}, headers=headers)
    assert mine.status_code == 202, mine.get_json()
