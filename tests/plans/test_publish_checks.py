"""Publishing checks every seat of a draft against what stands today: each seat that can no
longer stand is left out with its reason (services/publishing.py ``seat_problems``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Site
from dispatch.services import planning, publishing
from tests.support.apps import make_app, seed_demo
from tests.support.drafts import planned_draft

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
BEFORE = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)  # days before every demo trip


def test_every_seat_that_can_no_longer_stand_is_dropped_with_its_reason(tmp_path, db_url):
    """After planning, one worker is no longer open (marked boarded), one's window
    moved off the bus's day, one's destination and one's pickup point are no longer stops of
    their bus: the preview drops exactly these four, each with its reason and detail (SQLite
    and PostgreSQL)."""
    app = make_app(tmp_path, db_url)
    with app.app_context():
        seed_demo()
        db.session.commit()
        plan = planned_draft(planning.Scope(DAY1, DAY2))
        seats = sorted((s for t in plan.trips for s in t.seats), key=lambda s: s.worker_id)
        closed, moved, elsewhere, far = (s.worker for s in seats[:4])
        closed.status = "boarded"
        moved.earliest_date = moved.latest_date = seats[1].trip.date + timedelta(days=5)

        def not_on(seat, kind: str) -> str:
            stops = {s.site_id for s in seat.trip.stops if s.kind == kind}
            return next(
                site.id
                for site in db.session.scalars(select(Site).where(Site.kind == kind))
                if site.id not in stops
            )

        elsewhere.destination_site_id = not_on(seats[2], "dropoff")
        far.pickup_site_id = not_on(seats[3], "pickup")
        db.session.commit()
        drops = publishing.publish_preview(plan, app.config, BEFORE).drops
        found = {d.worker_id: (d.reason, d.detail, d.trip_code) for d in drops}
        window = f"{moved.earliest_date.isoformat()} – {moved.latest_date.isoformat()}"
        assert found == {
            closed.id: (publishing.NOT_OPEN, "boarded", seats[0].trip.code),
            moved.id: (publishing.WINDOW, window, seats[1].trip.code),
            elsewhere.id: (publishing.DESTINATION, "", seats[2].trip.code),
            far.id: (publishing.PICKUP, "", seats[3].trip.code),
        }
        assert {d.name for d in drops} == {closed.name, moved.name, elsewhere.name, far.name}
        db.session.remove()
        db.engine.dispose()
