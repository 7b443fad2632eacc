"""The SMS machinery: a Twilio-compatible server on loopback (tests/support/fake_twilio.py), apps
wired to it, outbox rows made directly, and `flask notify tick` as a process of its own."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models import OutboundMessage, Worker
from tests.support.apps import base_config, make_app
from tests.support.fake_twilio import FakeTwilio
from tests.support.gunicorn import app_env

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "secret-auth-token"
PUBLIC = "https://dispatch.example.cn"  # what Twilio sees; the test client is http://localhost
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: outside quiet hours
_keys = itertools.count(1)


def twilio_config(fake: FakeTwilio, **overrides: object) -> dict[str, object]:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": fake.url,
        "TWILIO_TIMEOUT_S": 0.5,
        "PUBLIC_BASE_URL": PUBLIC,
        **overrides,
    }


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def sms_app(tmp_path: Path, demo_template: Path, fake_twilio: FakeTwilio) -> Iterator[Flask]:
    """The demo data, sending through the real twilio client to the fake server."""
    target = tmp_path / "demo.db"
    shutil.copy(demo_template, target)
    config = {**base_config(tmp_path, f"sqlite:///{target}"), **twilio_config(fake_twilio)}
    app = create_app(config, instance_path=str(tmp_path))
    yield app
    app.extensions["sms_gateway"].close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_on(tmp_path: Path, fake_twilio: FakeTwilio):
    """A factory: an app on ``uri`` with 60 demo workers, wired to the fake server."""
    made: list[Flask] = []

    def build(uri: str) -> Flask:
        from dispatch.services import demo

        app = make_app(tmp_path, uri, **twilio_config(fake_twilio))
        with app.app_context():
            demo.load_demo(workers=60, profile=demo.SPREAD)
            db.session.commit()
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["sms_gateway"].close()
        with app.app_context():
            db.engine.dispose()


def workers(count: int | None = None) -> list[Worker]:
    """Demo workers, in id order (inside an app context)."""
    query = select(Worker).order_by(Worker.id)
    return list(db.session.scalars(query if count is None else query.limit(count)))


def add_message(worker: Worker, body: str = "", **values: object) -> OutboundMessage:
    """An outbox row for ``worker`` due at NOW unless told otherwise (flushed, not committed)."""
    key = next(_keys)
    message = OutboundMessage(
        dedupe_key=f"test:{worker.id}:{key}",
        kind=str(values.pop("kind", "departure")),
        worker_id=worker.id,
        to_phone=worker.phone,
        body=body or f"【临汾人社】测试通知{key}。回T退订",
        due_at=values.pop("due_at", NOW - timedelta(minutes=1)),
        **values,
    )
    db.session.add(message)
    db.session.flush()
    return message


def reload_message(message_id: int) -> OutboundMessage:
    """The outbox row as the database has it now (inside an app context)."""
    db.session.expire_all()
    return db.session.get(OutboundMessage, message_id)


def twilio_env(uri: str, fake: FakeTwilio, **settings: str) -> dict[str, str]:
    """A process's environment on ``uri`` sending through the fake server, as twilio_config
    wires an app in this process (``settings`` add to it or override it)."""
    return app_env(uri, **{k: str(v) for k, v in twilio_config(fake, **settings).items()})


def flask_piped(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """`flask --app dispatch ARGS…` as its own OS process (``env``: see gunicorn.app_env), its
    output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "dispatch", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def tick_process(env: dict[str, str], now: datetime = NOW) -> subprocess.Popen[str]:
    """`flask --app dispatch notify tick --now NOW` as its own OS process."""
    return flask_piped(env, "notify", "tick", "--now", now.isoformat())


def console_app_loads(tmp_path: Path, *packages: str) -> bool:
    """Whether an app on the console backend, made in a fresh interpreter, loads a module
    whose name starts with one of ``packages`` (a provider's SDK must load only when that
    provider is configured)."""
    code = (
        "import sys; from dispatch import create_app; "
        f"create_app({{'SECRET_KEY': 'x'}}, instance_path={str(tmp_path)!r}); "
        f"print(any(m.startswith({packages!r}) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"
