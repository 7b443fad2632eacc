"""The deployment as README.md describes it, for the tests that run it: a real gunicorn
(deploy/gunicorn.conf.py) on a free port, a logged-in HTTP session, a PostgreSQL database
migrated with `flask db upgrade` and carrying the published demo plan, and seat checks."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip, User
from tests.support.apps import ADMIN_PASSWORD, make_app, seed_demo

ROOT = Path(__file__).resolve().parents[2]
WINDOW = ["--from", "2026-02-28", "--to", "2026-03-03"]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(uri: str, **settings: str) -> dict[str, str]:
    """The environment of a deployed process (deploy/dispatch.env.example), on ``uri``."""
    env = {
        **os.environ,
        "DISPATCH_SQLALCHEMY_DATABASE_URI": uri,
        "DISPATCH_SECRET_KEY": "test-secret",
        "DISPATCH_SMS_BACKEND": "console",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.update({f"DISPATCH_{key}": value for key, value in settings.items()})
    return env


def children(pid: int) -> set[int]:
    """Process ids whose parent is ``pid`` (gunicorn's workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


class Gunicorn:
    """`gunicorn -c deploy/gunicorn.conf.py wsgi:app` on a free loopback port."""

    def __init__(
        self, env: dict[str, str], log: Path, workers: int = 2, timeout_s: int = 30
    ) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            self.url.removeprefix("http://"),
            "--workers",
            str(workers),
            "--timeout",
            str(timeout_s),
            "wsgi:app",
        ]
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        self.workers = workers

    def wait_ready(self, timeout_s: float = 40) -> None:
        """Until every worker is up and the app answers."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if (
                    requests.get(self.url + "/login", timeout=10).status_code == 200
                    and len(self.worker_pids()) == self.workers
                ):
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + self.log.read_text()[-3000:])

    def worker_pids(self) -> set[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def web_session(
    base: str, username: str = "admin", password: str = ADMIN_PASSWORD
) -> requests.Session:
    """A browser-like session: logged in through the real form with its CSRF token."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    token = CSRF.search(page.text).group(1)
    answer = session.post(
        base + "/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def migrate(uri: str) -> None:
    """`flask db upgrade` on ``uri``, as a release does."""
    upgrade = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "dispatch", "db", "upgrade"],
        cwd=ROOT,
        env=app_env(uri),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr


def flask_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`flask --app dispatch COMMAND…` as a process of its own (a scheduler, a worker)."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "dispatch", *command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_processes(*processes: subprocess.Popen) -> None:
    """SIGTERM each, then wait; SIGKILL what does not end within 20 s."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def published_database(uri: str, tmp_path: Path) -> dict:
    """Migrate ``uri`` with `flask db upgrade` (as a deployment does), then load the demo
    data, plan and publish it; an admin API token; facts for the tests."""
    migrate(uri)
    app = make_app(tmp_path, uri)
    runner = app.test_cli_runner()
    with app.app_context():
        seed_demo()
        db.session.commit()
    result = runner.invoke(args=["plan", "run", *WINDOW, "--time-limit", "2"])
    assert result.exit_code == 0, result.output
    plan_id = int(result.output.split()[0])
    assert runner.invoke(args=["plan", "publish", str(plan_id)]).exit_code == 0
    from dispatch.services.accounts import create_token

    with app.app_context():
        token = create_token(db.session.scalar(select(User).filter_by(username="admin")))
        db.session.commit()
        trips = db.session.scalars(
            select(Trip).where(Trip.plan_id == plan_id).order_by(Trip.id)
        ).all()
        facts = {"plan_id": plan_id, "token": token, "trip_ids": [t.id for t in trips]}
    return {"app": app, **facts}


def seat_map(trip_id: int) -> dict[int, int]:
    """seat_no → worker_id of a trip (inside an app context)."""
    rows = db.session.execute(
        select(SeatAssignment.seat_no, SeatAssignment.worker_id).where(
            SeatAssignment.trip_id == trip_id
        )
    )
    return {seat_no: worker_id for seat_no, worker_id in rows}


def assert_seats_consistent(plan_id: int) -> None:
    """No worker twice in the plan, no seat twice on a bus, no seat beyond the coach."""
    twice = select(SeatAssignment.worker_id).where(SeatAssignment.plan_id == plan_id)
    twice = twice.group_by(SeatAssignment.worker_id).having(func.count() > 1)
    assert db.session.scalars(twice).all() == []
    shared = select(SeatAssignment.trip_id, SeatAssignment.seat_no).group_by(
        SeatAssignment.trip_id, SeatAssignment.seat_no
    )
    assert db.session.execute(shared.having(func.count() > 1)).all() == []
    for trip in db.session.scalars(select(Trip).where(Trip.plan_id == plan_id)):
        numbers = [s.seat_no for s in trip.seats]
        assert all(1 <= n <= trip.coach_type.passenger_seats for n in numbers), trip.code


def free_seat(trip: dict) -> int:
    """The first empty seat of a trip as the API shows it."""
    taken = {s["seat_no"] for s in trip["seats"]}
    return next(n for n in range(1, trip["passenger_seats"] + 1) if n not in taken)


def dispose(app) -> None:
    """Close the pool's connections (outside any session that still holds one)."""
    with app.app_context():
        db.engine.dispose()
