"""Numbers outside the OpenAPI document's bounds are refused with 422 naming each field."""

from __future__ import annotations

from datetime import date, time

from dispatch.extensions import db
from dispatch.models import Trip
from dispatch.services import planning
from tests.support.workers import token_for


def test_an_id_of_zero_is_refused_not_read_as_none(client, demo_app):
    """PATCH /api/v1/trips/<id> with coach_id 0 once cleared the coach with a 200."""
    with demo_app.app_context():
        plan = planning.start_plan(
            planning.Scope(date(2026, 3, 1), date(2026, 3, 1)), None, time_limit_s=1
        )
        planning.store_result(plan, planning.solve_plan(plan, 1), time(8), "Asia/Shanghai")
        db.session.commit()
        trip_id = db.session.query(Trip.id).first()[0]
    answer = client.patch(
        f"/api/v1/trips/{trip_id}",
        json={"coach_id": 0, "captain_worker_id": 0},
        headers=token_for(demo_app, "admin"),
    )
    assert answer.status_code == 422
    assert set(answer.get_json()["fields"]) == {"coach_id", "captain_worker_id"}
