"""The demo is like a real campaign (issue 17 §6): most workers to three factories, family
groups, short windows; and its plan fills its buses as a real one does (70 % of seats)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Employer, Plan, Worker
from dispatch.services import demo
from tests.support.apps import make_app

WINDOW = ["--from", "2026-02-28", "--to", "2026-03-04"]


def _campaign_app(tmp_path: Path):
    app = make_app(tmp_path)
    with app.app_context():
        demo.load_demo(workers=200)  # the default profile: what `make run` and `demo load` show
        db.session.commit()
    return app


def test_most_workers_go_to_three_factories_in_groups_and_short_windows(tmp_path):
    app = _campaign_app(tmp_path)
    with app.app_context():
        workers = db.session.scalars(select(Worker)).all()
        assert len(workers) == 200
        by_employer = Counter(w.employer_id for w in workers)
        top = by_employer.most_common(3)
        sites = {db.session.get(Employer, e).site_id for e, _ in top}
        assert sites == {"js-kunshan", "js-wuxi", "sh-songjiang"}
        assert 0.6 <= sum(n for _, n in top) / 200 <= 0.8
        assert len(by_employer) >= 6  # the rest are scattered over other firms
        groups = Counter(w.group_code for w in workers if w.group_code)
        assert len(groups) >= 10 and max(groups.values()) >= 3
        windows = Counter((w.latest_date - w.earliest_date).days for w in workers)
        assert set(windows) <= {0, 1, 2} and len(windows) >= 2
        assert any(w.county_id == "hongtong" for w in workers)  # the demo coordinator's county


def test_the_demo_plan_fills_at_least_70_percent_of_its_seats(tmp_path):
    app = _campaign_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["plan", "run", *WINDOW, "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        plan = db.session.get(Plan, int(result.output.splitlines()[0]))
        assert not plan.unassigned
        seats = sum(t.coach_type.rated_seats - t.coach_type.crew_seats for t in plan.trips)
        seated = sum(len(t.seats) for t in plan.trips)
        assert seated == 200
        assert seated / seats >= 0.70, f"{seated} workers in {seats} seats"


def test_the_spread_profile_stays_for_the_suite(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        demo.load_demo(workers=200, profile=demo.SPREAD)
        employers = Counter(db.session.scalars(select(Worker.employer_id)))
        assert employers.most_common(1)[0][1] < 30  # no factory dominates
