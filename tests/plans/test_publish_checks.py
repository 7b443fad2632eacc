"""Publishing checks every seat of a draft against what stands today: each seat that can no
longer stand is left out with its reason (services/publishing.py ``seat_problems``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text

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


def test_a_plan_too_big_for_the_request_gets_its_notices_from_the_next_tick(tmp_path, db_url):
    """Past PUBLISH_NOTICES_INLINE seats, publishing seats everyone but writes no notice; the
    scheduler's tick then writes exactly what the preview promised, once (SQLite and
    PostgreSQL). Under the limit, publishing writes them itself and the tick adds none."""
    from dispatch.jobs.scheduler import run_tick
    from dispatch.models import OutboundMessage, Plan, SeatAssignment
    from dispatch.services.notices.notices import schedule_pending_changes
    from dispatch.services.seats import place
    from tests.support.coaches import assign_coaches

    app = make_app(tmp_path, db_url)
    app.config["SMS_QUIET_HOURS"] = ""  # the tick also sends: all at once, whatever the hour

    def rows() -> int:
        return db.session.scalar(select(func.count()).select_from(OutboundMessage))

    with app.app_context():
        seed_demo()
        db.session.commit()
        big, small = (planned_draft(planning.Scope(day, day)) for day in (DAY1, DAY2))
        assign_coaches(big)
        assign_coaches(small)
        db.session.commit()
        seats = db.session.scalar(select(func.count()).where(SeatAssignment.plan_id == big.id))
        app.config["PUBLISH_NOTICES_INLINE"] = seats - 1
        preview = publishing.publish_preview(big, app.config, BEFORE)
        promised = preview.messages + preview.suppressed
        result = publishing.publish(big, None, BEFORE, app.config)
        db.session.commit()
        assert result.notices_deferred and result.seated == seats
        assert rows() == 0 and big.notices_written_at is None
        assert {s.worker.status for t in big.trips for s in t.seats} == {"assigned"}

        # Re-seated before the tick: no change notice now, one departure notice then, with
        # the new seat (it was a change notice now and an out-of-date departure notice later).
        trip = next(t for t in big.trips if len(t.seats) < t.coach_type.passenger_seats)
        free = min(
            set(range(1, trip.coach_type.passenger_seats + 1)) - {s.seat_no for s in trip.seats}
        )
        moved = trip.seats[0].worker
        place(trip, free, moved, None)
        db.session.commit()
        assert schedule_pending_changes(BEFORE, app.config) == 0
        db.session.commit()
        assert rows() == 0

        counts = run_tick(app, BEFORE)  # in an app context, and session, of its own
        assert counts["announced"] == promised and rows() == promised
        told = db.session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.worker_id == moved.id, OutboundMessage.kind == "departure"
            )
        ).all()
        assert [(m.params["seat"], m.version) for m in told] == [(str(free), 1)]
        if db.engine.dialect.name == "postgresql":  # the planner's statistics see them at once
            analyzed = db.session.execute(
                text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"),
                {"t": OutboundMessage.__table__.name},
            ).scalar_one()
            assert analyzed is not None
        db.session.expire_all()
        assert db.session.get(Plan, big.id).notices_written_at is not None
        assert "announced" not in run_tick(app, BEFORE) and rows() == promised

        app.config["PUBLISH_NOTICES_INLINE"] = 5000
        result = publishing.publish(small, None, BEFORE, app.config)
        db.session.commit()
        assert not result.notices_deferred and small.notices_written_at is not None
        written = rows() - promised
        assert written > result.seated  # a departure notice each, reminders, welfare, drivers
        assert "announced" not in run_tick(app, BEFORE) and rows() == promised + written
        db.session.remove()
        db.engine.dispose()
