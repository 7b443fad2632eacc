"""The deployment as README.md describes it: `flask db upgrade`, then a real gunicorn with two
workers (deploy/gunicorn.conf.py) on PostgreSQL, driven over HTTP like a browser and an API client.

The helpers (a gunicorn process, a logged-in HTTP session) live in tests/support/gunicorn.py,
shared with test_faults.py and bench/load.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from dispatch import _instance_secret
from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan, Trip, utcnow
from tests.support.gunicorn import (
    Gunicorn,
    app_env,
    assert_seats_consistent,
    csrf_of,
    dispose,
    free_seat,
    published_database,
    seat_map,
    web_session,
)


@pytest.mark.postgres
def test_gunicorn_serves_the_app_on_postgres_and_runs_no_scheduler(pg_url, tmp_path):
    data = published_database(pg_url, tmp_path)
    app, trip_id = data["app"], data["trip_ids"][0]
    with app.app_context():
        # A message due now: a scheduler inside a web process would send it within a tick.
        db.session.add(
            OutboundMessage(
                dedupe_key="probe",
                kind="departure",
                to_phone="+8613800138000",
                body="【临汾人社】探针。回T退订",
                due_at=utcnow() - timedelta(minutes=1),
            )
        )
        db.session.commit()
    env = app_env(pg_url, SCHEDULER_ENABLED="true", SCHEDULER_TICK_S="1", SMS_QUIET_HOURS='""')
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2)
    try:
        server.wait_ready()
        started = time.monotonic()
        assert len(server.worker_pids()) == 2
        browser = web_session(server.url)
        assert (
            browser.get(server.url + "/workers/", params={"q": "王"}, timeout=10).status_code == 200
        )
        page = browser.get(f"{server.url}/trips/{trip_id}", timeout=10)
        assert page.status_code == 200
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {data['token']}"
        trip = api.get(f"{server.url}/api/v1/trips/{trip_id}", timeout=10).json()
        mover, target = trip["seats"][0], free_seat(trip)
        put = api.put(
            f"{server.url}/api/v1/trips/{trip_id}/seats/{target}",
            json={"worker_id": mover["worker_id"], "version": trip["version"]},
            timeout=10,
        )
        assert put.status_code == 200, put.text
        stale = api.put(
            f"{server.url}/api/v1/trips/{trip_id}/seats/{mover['seat_no']}",
            json={"worker_id": mover["worker_id"], "version": trip["version"]},
            timeout=10,
        )
        assert stale.status_code == 409  # the version moved on: a stale map is refused
        # The browser's form (CSRF token from the page) swaps two seats on the new version.
        version = put.json()["version"]
        swap = {
            "csrf_token": csrf_of(page.text),
            "seat_no": target,
            "other_seat": mover["seat_no"],
            "version": version,
        }
        answer = browser.post(
            f"{server.url}/trips/{trip_id}/seats/swap", data=swap, allow_redirects=False, timeout=10
        )
        assert answer.status_code == 302, answer.text[:300]
        time.sleep(max(0.0, 2.5 - (time.monotonic() - started)))  # more than two scheduler ticks
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log.read_text()[-2000:]
    with app.app_context():
        assert seat_map(trip_id)[mover["seat_no"]] == mover["worker_id"]  # moved, then swapped back
        assert db.session.get(Trip, trip_id).version == trip["version"] + 2
        assert (
            db.session.scalar(select(OutboundMessage.status).filter_by(dedupe_key="probe"))
            == "pending"
        )
        assert db.session.get(Plan, data["plan_id"]).status == "published"
        assert_seats_consistent(data["plan_id"])
    dispose(app)


def _read_secret(path: str, barrier, keys) -> None:
    barrier.wait()
    try:
        keys.put(_instance_secret(Path(path)))
    except Exception as error:  # noqa: BLE001 (reported to the test)
        keys.put(repr(error))


def test_workers_starting_together_share_one_whole_secret_key(tmp_path):
    """gunicorn starts its workers at once, each running create_app: without a configured
    SECRET_KEY they must all read one complete instance key (before the fix some of them read
    an empty key, or crashed on FileExistsError, and gunicorn stopped)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for trial in range(60):  # the race is narrow: about one trial in eight lost it
        path, barrier, keys = (
            str(tmp_path / f"secret_key{trial}"),
            context.Barrier(6),
            context.Queue(),
        )
        workers = [
            context.Process(target=_read_secret, args=(path, barrier, keys)) for _ in range(6)
        ]
        for worker in workers:
            worker.start()
        found = [keys.get(timeout=20) for _ in workers]
        for worker in workers:
            worker.join(10)
        assert len(set(found)) == 1 and len(found[0]) == 64, found
        assert (
            sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
        )  # no leftovers
