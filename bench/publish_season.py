"""Publishing a season's draft, timed: the request's part (seats checked and kept, workers
assigned) and the notices the scheduler then writes, on the load test's cluster.

    python bench/publish_season.py [--dir /tmp/dispatch-load-pg] [--plan ID]

Needs the cluster that bench/load_data.py builds and a season's draft on it (bench/plan_queue.py
plans one). Everything runs in one transaction that is rolled back, so the draft stays a draft
and the figures can be taken again. Notices are written as of 30 days before the draft's first
day, so that every one of them is still due.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.load_data import make_app, start_cluster  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.models import Plan, SeatAssignment  # noqa: E402
from dispatch.services import publishing  # noqa: E402
from dispatch.services.notices import notices  # noqa: E402
from tests.support.gunicorn import migrate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/dispatch-load-pg"))
    parser.add_argument("--plan", type=int, help="the draft (default: the one of most seats)")
    args = parser.parse_args()
    url, stop = start_cluster(args.dir)
    try:
        migrate(url)
        app = make_app(url, Path(tempfile.mkdtemp()))
        with app.app_context():
            plan = db.session.get(Plan, args.plan or _largest_draft())
            first = datetime.combine(plan.date_from, datetime.min.time(), UTC)
            now = first - timedelta(days=30)
            seats = len(plan.trips), _seats(plan.id)
            started = time.monotonic()
            result = publishing.publish(plan, None, now, app.config)
            db.session.flush()
            request = time.monotonic() - started
            started = time.monotonic()
            written = notices.schedule_deferred(now, app.config)
            later = time.monotonic() - started
            db.session.rollback()
            print(
                f"plan {plan.id}: {seats[0]:,} buses, {seats[1]:,} seats; publish {request:.1f} s "
                f"(notices deferred: {result.notices_deferred}); the scheduler's notices: "
                f"{written:,} in {later:.1f} s"
            )
    finally:
        stop()


def _largest_draft() -> int:
    return (
        db.session.execute(
            select(Plan.id)
            .join(SeatAssignment, SeatAssignment.plan_id == Plan.id)
            .where(Plan.status == "draft")
            .group_by(Plan.id)
            .order_by(func.count().desc())
        )
        .scalars()
        .first()
    )


def _seats(plan_id: int) -> int:
    return db.session.scalar(select(func.count()).where(SeatAssignment.plan_id == plan_id))


if __name__ == "__main__":
    main()
