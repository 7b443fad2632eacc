"""Dispatch board speed on a 3,000-worker day (issue 5 targets, on 2 cores):
the plan overview renders in ≤ 300 ms of server time; a seat move completes in ≤ 50 ms at p95.

    .venv/bin/python bench/board.py [--workers 3000] [--moves 200]

Server time is measured in-process through the WSGI test client (no network), on SQLite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch import create_app  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.models import Coach, Trip, Worker  # noqa: E402
from dispatch.services import accounts, demo, planning  # noqa: E402

DAY = date(2026, 3, 1)


def build(tmp: Path, workers: int, seconds: float):
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
        },
        instance_path=str(tmp),
    )
    with app.app_context():
        db.create_all()
        demo.load_demo(workers=workers, seed=7)
        db.session.execute(update(Worker).values(earliest_date=DAY, latest_date=DAY))
        for type_id in ("c33", "c45", "c53"):  # a fleet big enough for the day
            for n in range(40):
                db.session.add(Coach(plate=f"晋L·B{type_id}{n:03d}", coach_type_id=type_id))
        accounts.create_user("bench", "admin", "bench-password")
        db.session.commit()
        plan = planning.start_plan(planning.Scope(DAY, DAY), None)
        planning.store_result(plan, planning.solve_plan(plan, seconds), clock(8), "Asia/Shanghai")
        db.session.commit()
        return app, plan.id


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(workers: int, moves: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app, plan_id = build(Path(tmp), workers, seconds)
        client = app.test_client()
        client.post("/login", data={"username": "bench", "password": "bench-password"})
        with app.app_context():
            trips = [(t.id, t.coach_type.passenger_seats) for t in db.session.scalars(select(Trip))]
            seated = sum(len(t.seats) for t in db.session.scalars(select(Trip)))
        overview = [timed(lambda: _ok(client.get(f"/plans/{plan_id}"))) for _ in range(30)]
        rng = random.Random(1)
        move_ms = []
        for _ in range(moves):
            trip_id, seats = rng.choice(trips)
            with app.app_context():
                version = db.session.get(Trip, trip_id).version
            a, b = rng.sample(range(1, seats + 1), 2)
            data = {"seat_no": a, "other_seat": b, "version": version}
            url = f"/trips/{trip_id}/seats/swap"
            move_ms.append(timed(lambda url=url, data=data: _ok(client.post(url, data=data))))
        with app.app_context():
            db.engine.dispose()
    return {
        "workers": workers,
        "buses": len(trips),
        "seated": seated,
        "overview_p50": statistics.median(overview),
        "overview_p95": percentile(overview, 95),
        "move_p50": statistics.median(move_ms),
        "move_p95": percentile(move_ms, 95),
    }


def _ok(response) -> None:
    if response.status_code not in (200, 302):
        raise SystemExit(f"unexpected {response.status_code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--plan-seconds", type=float, default=20)
    args = parser.parse_args()
    result = run(args.workers, args.moves, args.plan_seconds)
    for key, value in result.items():
        print(f"{key:>14}: {value:.1f}" if isinstance(value, float) else f"{key:>14}: {value}")
    met = result["overview_p95"] <= 300 and result["move_p95"] <= 50
    print(f"{'targets met':>14}: {'yes' if met else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
