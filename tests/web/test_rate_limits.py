"""Rate limits held in the database: atomic counts, windows that end, and limits that hold
across processes (login failures per address, API requests per token)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch import create_app
from dispatch.extensions import db, limiter
from dispatch.models import RateLimitCounter
from dispatch.ratelimit import DatabaseStorage
from tests.support.apps import base_config, make_app
from tests.support.workers import token_for

ROOT = Path(__file__).resolve().parents[2]


def _twin(tmp_path: Path, uri: str, **overrides):
    """A second app on the same database: another process's worth of state."""
    folder = tmp_path / "twin"
    folder.mkdir(exist_ok=True)
    return create_app({**base_config(folder, uri), **overrides}, instance_path=str(folder))


def test_the_database_is_the_default_store(app):
    assert isinstance(limiter.storage, DatabaseStorage)


def test_increments_are_atomic_across_apps_and_threads(tmp_path: Path, db_url: str):
    first = make_app(tmp_path, db_url)
    second = _twin(tmp_path, db_url)
    storage, seen, errors = DatabaseStorage(), [], []

    def hammer(app) -> None:
        try:
            for _ in range(25):
                with app.app_context():
                    seen.append(storage.incr("LIMITER/test/shared", 60))
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(a,)) for a in (first, second) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(seen) == list(range(1, 201))  # no two hits ever read the same count
    with second.app_context():
        assert storage.get("LIMITER/test/shared") == 200
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_a_window_ends_and_old_windows_are_swept(app):
    now = [1_000_000.0]
    storage = DatabaseStorage(clock=lambda: now[0])
    with app.app_context():
        assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3]
        storage.incr("b", 10)
        assert storage.get("a") == 3 and storage.get_expiry("a") == 1_000_060.0
        now[0] += 61  # a's window is over, b's long since
        assert storage.get("a") == 0
        assert storage.incr("a", 60) == 1 and storage.get_expiry("a") == 1_000_121.0
        keys = db.session.scalars(select(RateLimitCounter.key)).all()
        assert keys == ["a"]  # b swept
        long_key = "LIMITER/" + "x" * 300
        assert storage.incr(long_key, 60) == 1 and storage.get(long_key) == 1
        storage.clear("a")
        assert storage.get("a") == 0 and storage.check()
        assert storage.reset() == 1


# --- Across processes --------------------------------------------------------------------

SERVER = """
import json, sys
from werkzeug.serving import make_server
from dispatch import create_app
app = create_app(json.loads(sys.argv[1]), instance_path=sys.argv[2])
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


class ServerProcess:
    """The app served by a process of its own."""

    def __init__(self, config: dict, folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, json.dumps(config), str(folder)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = ""

    def wait_ready(self) -> ServerProcess:
        port = self.process.stdout.readline().strip()
        assert port.isdigit(), "the server did not start"
        self.url = f"http://127.0.0.1:{port}"
        return self

    def login(self, password: str) -> int:
        data = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
        request = urllib.request.Request(self.url + "/login", data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            error.close()
            return error.code

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.process.stdout.close()


@pytest.mark.parametrize("store", ["database://", "memory://"])
def test_login_failures_are_counted_across_processes(tmp_path: Path, demo_template: Path, store):
    shutil.copy(demo_template, tmp_path / "shared.db")
    config = {
        **base_config(tmp_path, f"sqlite:///{tmp_path / 'shared.db'}"),
        "RATELIMIT_STORAGE_URI": store,
    }
    servers = [ServerProcess(config, tmp_path / name) for name in ("a", "b")]  # start together
    try:
        a, b = (server.wait_ready() for server in servers)
        assert [s.login("wrong") for s in (a, b, a, b, a)] == [401] * 5
        sixth = b.login("wrong")
    finally:
        for server in servers:
            server.stop()
    # Per-process memory lets every gunicorn worker allow its own five: the reason for the
    # database store.
    assert sixth == (429 if store == "database://" else 401)


def test_api_requests_are_limited_per_token_across_apps(tmp_path: Path, demo_template: Path):
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    shutil.copy(demo_template, tmp_path / "shared.db")
    first = create_app({**base_config(tmp_path, uri), "API_REQUESTS_PER_MINUTE": 3}, str(tmp_path))
    second = _twin(tmp_path, uri, API_REQUESTS_PER_MINUTE=3)
    admin, hong = token_for(first, "admin"), token_for(first, "hong")
    a, b = first.test_client(), second.test_client()
    statuses = [c.get("/api/v1/workers?per_page=1", headers=admin).status_code for c in (a, b, a)]
    assert statuses == [200, 200, 200]
    throttled = b.get("/api/v1/trips", headers=admin)
    assert throttled.status_code == 429
    assert throttled.get_json()["error"] == "too_many_requests" and throttled.get_json()["message"]
    assert int(throttled.headers["Retry-After"]) <= 60
    assert a.get("/api/v1/workers?per_page=1", headers=hong).status_code == 200  # per token
    with first.app_context():
        counted = db.session.scalars(select(RateLimitCounter.count)).all()
    assert sorted(counted) == [1, 4]
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_the_api_limit_can_be_switched_off(tmp_path: Path, demo_template: Path):
    shutil.copy(demo_template, tmp_path / "db.sqlite")
    app = create_app(
        {
            **base_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}"),
            "API_REQUESTS_PER_MINUTE": 0,
        },
        instance_path=str(tmp_path),
    )
    admin, client = token_for(app, "admin"), app.test_client()
    assert {client.get("/api/v1/trips", headers=admin).status_code for _ in range(8)} == {200}
    with app.app_context():
        db.engine.dispose()
