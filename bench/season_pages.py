"""The pages a coordinator opens on a whole season, timed one at a time on the load test's
cluster: a draft's confirmation, comparison and suggestions, the worker export and the API's
trip list.

    python bench/season_pages.py [--dir /tmp/dispatch-load-pg] [--plan ID] [--users planadmin,coord01]

Needs the cluster that bench/load_data.py builds and a season's draft on it (bench/plan_queue.py
plans one). Nothing is written but the export's audit events and an API token per user. Each
page is asked twice in a row; gunicorn kills a request at 60 s (deploy/gunicorn.conf.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.load_data import PASSWORD, make_app, start_cluster  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.models import Plan, SeatAssignment, User  # noqa: E402
from dispatch.services import accounts  # noqa: E402
from tests.support.gunicorn import migrate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/dispatch-load-pg"))
    parser.add_argument("--plan", type=int, help="the draft (default: the one of most seats)")
    parser.add_argument("--users", default="planadmin,coord01")
    args = parser.parse_args()
    url, stop = start_cluster(args.dir)
    try:
        migrate(url)
        app = make_app(url, Path(tempfile.mkdtemp()))
        app.config["WTF_CSRF_ENABLED"] = False
        with app.app_context():
            plan = db.session.get(Plan, args.plan) if args.plan else _largest_draft()
            plan_id, first, last = plan.id, plan.date_from, plan.date_to
            tokens = {name: _token(name) for name in args.users.split(",")}
        pages = [
            f"/plans/{plan_id}/publish",
            f"/plans/{plan_id}/compare",
            f"/plans/{plan_id}/advice",
            "/workers/export.csv",
            "/workers/export.xlsx",
        ]
        print(f"plan {plan_id}: {first} – {last}")
        print("| user | page | status | first s | second s | MB |")
        print("|---|---|---:|---:|---:|---:|")
        for name, token in tokens.items():
            client = app.test_client()
            client.post("/login", data={"username": name, "password": PASSWORD})
            for path in pages:
                _time(name, client, path, {})
            _time(
                name,
                client,
                f"/api/v1/trips?date={first.isoformat()}",
                {"Authorization": f"Bearer {token}"},
            )
    finally:
        stop()


def _largest_draft() -> Plan:
    seats = func.count(SeatAssignment.id)
    plan_id = db.session.execute(
        select(Plan.id)
        .join(SeatAssignment, SeatAssignment.plan_id == Plan.id)
        .where(Plan.status == "draft")
        .group_by(Plan.id)
        .order_by(seats.desc())
        .limit(1)
    ).scalar_one()
    return db.session.get(Plan, plan_id)


def _token(username: str) -> str:
    user = db.session.scalar(select(User).filter_by(username=username))
    token = accounts.create_token(user, "bench/season_pages.py")
    db.session.commit()
    return token


def _time(user: str, client, path: str, headers: dict[str, str]) -> None:
    took = []
    for _ in range(2):
        start = time.monotonic()
        response = client.get(path, headers=headers)
        took.append(time.monotonic() - start)
    size = len(response.data) / 1e6
    print(
        f"| {user} | `{path}` | {response.status_code} | {took[0]:.1f} | {took[1]:.1f} | {size:.1f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
