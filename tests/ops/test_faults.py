"""Faults at the process level (issue 8), on PostgreSQL with real processes: the SMS sender
SIGKILLed mid-drain and restarted; a gunicorn worker SIGKILLed mid-request; the database
restarted under load; the SMS provider answering 5xx and timing out for a while.

Afterwards every message was sent exactly once or is marked for a person (``unknown``), and
every seat is consistent. The outbox rules themselves are tested in tests/notify/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import psycopg
import pytest
import requests
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from dispatch.models import OutboundMessage, Trip, utcnow
from dispatch.models import messages as m
from tests.support import pg
from tests.support.apps import make_app
from tests.support.fake_twilio import FakeTwilio
from tests.support.gunicorn import (
    Gunicorn,
    app_env,
    assert_seats_consistent,
    dispose,
    free_seat,
    published_database,
    seat_map,
)
from tests.support.sms import NOW, add_message, flask_piped, twilio_config, twilio_env, workers

pytestmark = pytest.mark.postgres


# --- the SMS sender --------------------------------------------------------------------------


@pytest.fixture
def fake():
    with FakeTwilio("AC" + "2" * 32, "fault-token") as server:
        yield server


@pytest.fixture
def sms_app(pg_url, tmp_path, fake):
    """60 demo workers on a fresh PostgreSQL database, sending to the fake Twilio server."""
    from dispatch.services import demo

    app = make_app(tmp_path, pg_url, **twilio_config(fake))
    with app.app_context():
        demo.load_demo(workers=60, profile=demo.SPREAD)
        db.session.commit()
    yield app
    app.extensions["sms_gateway"].close()
    dispose(app)


def sender_env(uri: str, fake: FakeTwilio, **settings: str) -> dict[str, str]:
    return twilio_env(uri, fake, SMS_QUIET_HOURS='""', **settings)


def tick(env: dict[str, str], now: datetime) -> str:
    """`flask notify tick --now …` to the end; its counts."""
    process = flask_piped(env, "notify", "tick", "--now", now.isoformat())
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out.strip()


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def statuses() -> Counter[str]:
    db.session.expire_all()
    rows = db.session.scalars(select(OutboundMessage.status))
    counts = Counter(rows)
    db.session.commit()
    return counts


def assert_each_sent_once_or_for_a_person(fake: FakeTwilio) -> Counter[str]:
    """Sent rows reached the provider exactly once; the rest are ``unknown`` (a person looks)."""
    db.session.expire_all()
    rows = db.session.scalars(select(OutboundMessage)).all()
    with fake.lock:
        created = Counter((form["To"], form["Body"]) for form in fake.created)
    assert fake.duplicates() == {}
    for row in rows:
        assert row.status in (m.MSG_SENT, m.MSG_UNKNOWN), (row.id, row.status, row.error_message)
        reached = created[(row.to_phone, row.body)]
        assert reached == 1 if row.status == m.MSG_SENT else reached <= 1, (
            row.id,
            row.status,
            reached,
        )
    assert sum(created.values()) <= len(rows)  # nothing reached the provider that we did not mean
    return Counter(row.status for row in rows)


def queue_messages(count_per_worker: int, due_at: datetime) -> int:
    group = workers()
    for worker in group:
        for n in range(count_per_worker):
            add_message(worker, body=f"【临汾人社】故障测试{worker.id}-{n}。回T退订", due_at=due_at)
    db.session.commit()
    return len(group) * count_per_worker


def test_scheduler_killed_mid_drain_then_restarted_sends_nothing_twice(sms_app, pg_url, fake):
    """The production process (`scheduler run`, paced) is SIGKILLed while sending; a new one
    finishes the drain; the one claim in flight goes to a person after STALE_CLAIM."""
    with sms_app.app_context():
        total = queue_messages(1, utcnow() - timedelta(minutes=1))
    env = sender_env(pg_url, fake, SMS_MAX_PER_SECOND="25", SCHEDULER_TICK_S="1")
    first = flask_piped(env, "scheduler", "run")
    try:
        wait_for(lambda: len(fake.created) >= 15, 40, "the first scheduler to send")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    sent_by_first = len(fake.created)
    assert sent_by_first < total, "the scheduler finished before it could be killed"
    second = flask_piped(env, "scheduler", "run")
    try:
        with sms_app.app_context():
            wait_for(lambda: statuses()[m.MSG_PENDING] == 0, 40, "the second scheduler to drain")
            wait_for(lambda: statuses()[m.MSG_SENDING] <= 1, 10, "the second scheduler's last send")
    finally:
        second.terminate()
        second.communicate(timeout=10)
    with sms_app.app_context():
        in_flight = statuses()[m.MSG_SENDING]
        assert in_flight <= 1  # paced sending claims one row at a time
        # Later, any scheduler tick hands the dead process's claim to a person.
        tick(env, utcnow() + timedelta(minutes=11))
        outcome = assert_each_sent_once_or_for_a_person(fake)
    assert outcome[m.MSG_UNKNOWN] == in_flight and outcome[m.MSG_SENT] == total - in_flight
    assert len(fake.created) >= total - in_flight


def test_unpaced_drain_killed_mid_batch_leaves_at_most_one_batch_to_people(sms_app, pg_url, fake):
    """`notify tick` without pacing claims 50 rows at a time and records them after the batch:
    SIGKILLed mid-batch, the whole batch is in doubt (some were sent, some not) and goes to a
    person; nothing is ever sent twice and the other rows are sent by the next tick."""
    with sms_app.app_context():
        total = queue_messages(2, NOW - timedelta(minutes=1))
    fake.delay_s = 0.04  # a slow provider: the kill lands inside a batch
    env = sender_env(pg_url, fake, SMS_MAX_PER_SECOND="0")
    first = flask_piped(env, "notify", "tick", "--now", NOW.isoformat())
    try:
        wait_for(
            lambda: len(fake.created) >= 60, 60, "the first tick to be inside its second batch"
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert len(fake.created) < total, "the tick finished before it could be killed"
    assert tick(env, NOW + timedelta(minutes=11))  # hands the dead claims to people, sends the rest
    with sms_app.app_context():
        outcome = assert_each_sent_once_or_for_a_person(fake)
        unknown = db.session.scalars(select(OutboundMessage).filter_by(status=m.MSG_UNKNOWN)).all()
    assert 0 < len(unknown) <= 50 and outcome[m.MSG_SENT] == total - len(unknown)
    assert all("process died" in row.error_message for row in unknown)


def test_provider_5xx_and_timeouts_for_a_while_then_recovery(sms_app, fake):
    """The provider answers 500 to everyone for over a minute of ticks, and lets two answers
    hang past the client's timeout; when it recovers every message goes out exactly once.
    (Ticks in this process: the fault is the provider's, not a process's.)"""
    with sms_app.app_context():
        total = queue_messages(2, NOW - timedelta(minutes=1))
        phones = [w.phone for w in workers()]
    fake.behaviours.update(dict.fromkeys(phones, "500"))
    fake.hang_s = 2.0
    for second in (0, 30, 65):  # a minute of outage: the first retries (60 s backoff) fail too
        run_tick(sms_app, NOW + timedelta(seconds=second))
    with sms_app.app_context():
        during = statuses()
    assert during == {m.MSG_PENDING: total} and fake.created == []  # nothing lost, nothing sent
    assert fake.attempts and sum(fake.attempts.values()) <= 9  # each tick stops after 3 failures
    fake.behaviours.clear()
    fake.behaviours.update(dict.fromkeys(phones[:2], "hang"))  # accepted, answer too late
    for minutes in (2, 7, 30):  # past every backoff the failures earned
        run_tick(sms_app, NOW + timedelta(minutes=minutes))
    with sms_app.app_context():
        outcome = assert_each_sent_once_or_for_a_person(fake)
        hung = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.to_phone.in_(phones[:2]))
        ).all()
        assert {row.status for row in hung} <= {m.MSG_UNKNOWN, m.MSG_SENT}
        assert any(row.status == m.MSG_UNKNOWN and row.error_code == "timeout" for row in hung)
    assert outcome[m.MSG_SENT] + outcome[m.MSG_UNKNOWN] == total
    assert outcome[m.MSG_UNKNOWN] <= len(hung)  # only timed-out sends are left to a person


# --- the web processes and the database -----------------------------------------------------


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory):
    """A published demo plan on its own database, served by gunicorn with two workers."""
    tmp = tmp_path_factory.mktemp("faults")
    uri = pg_server.create_database()
    data = published_database(uri, tmp)
    server = Gunicorn(app_env(uri), tmp / "gunicorn.log", workers=2, timeout_s=20)
    server.wait_ready()
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {data['token']}"
    yield {**data, "server": server, "api": api, "uri": uri}
    server.stop()
    dispose(data["app"])


def trip_of(site: dict, trip_id: int) -> dict:
    answer = site["api"].get(f"{site['server'].url}/api/v1/trips/{trip_id}", timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()


def move(site: dict, trip: dict, timeout_s: float = 10) -> tuple[requests.Response, int, int]:
    """PUT the trip's first seated worker into its first free seat (with the trip's version)."""
    worker, seat = trip["seats"][0]["worker_id"], free_seat(trip)
    url = f"{site['server'].url}/api/v1/trips/{trip['id']}/seats/{seat}"
    body = {"worker_id": worker, "version": trip["version"]}
    return site["api"].put(url, json=body, timeout=timeout_s), worker, seat


def test_worker_killed_mid_request_writes_all_or_nothing(site, pg_server):
    server, trip_id = site["server"], site["trip_ids"][1]
    before = trip_of(site, trip_id)
    outcome: dict[str, object] = {}
    dsn = site["uri"].replace("+psycopg", "")
    with psycopg.connect(dsn) as blocker, psycopg.connect(dsn, autocommit=True) as watcher:
        # Hold the trip's row: the seat write blocks inside its transaction, mid-request.
        blocker.execute("SELECT id FROM trip WHERE id = %s FOR UPDATE", (trip_id,))

        def request() -> None:
            try:
                outcome["answer"] = move(site, before, timeout_s=20)[0].status_code
            except requests.RequestException as error:
                outcome["answer"] = type(error).__name__

        thread = threading.Thread(target=request)
        thread.start()
        wait_for(lambda: _waiting_on_lock(watcher), 15, "the seat write to reach the database")
        old_workers = server.worker_pids()
        for pid in old_workers:  # the one handling the request among them
            os.kill(pid, signal.SIGKILL)
        thread.join(20)
        blocker.rollback()
    assert outcome["answer"] in ("ConnectionError", "ChunkedEncodingError"), outcome
    wait_for(
        lambda: len(server.worker_pids() - old_workers) == 2, 30, "gunicorn to respawn its workers"
    )
    server.wait_ready()
    with site["app"].app_context():
        # The killed request's transaction was rolled back whole: nothing moved, version kept.
        assert seat_map(trip_id) == {s["seat_no"]: s["worker_id"] for s in before["seats"]}
        assert db.session.get(Trip, trip_id).version == before["version"]
        db.session.commit()
    answer, worker, seat = move(site, before)  # the same edit, retried on the same version
    assert answer.status_code == 200, answer.text[:300]
    with site["app"].app_context():
        assert seat_map(trip_id)[seat] == worker
        assert db.session.get(Trip, trip_id).version == before["version"] + 1
        assert_seats_consistent(site["plan_id"])


def _waiting_on_lock(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    ).fetchone()
    return row[0] > 0


def test_database_restart_under_load_gives_clean_errors_then_recovers(site, pg_server):
    server, trip_ids = site["server"], site["trip_ids"]
    seen: list[tuple[float, str]] = []
    stop = threading.Event()

    def load() -> None:
        session = requests.Session()
        session.headers.update(site["api"].headers)
        n = 0
        while not stop.is_set():
            n += 1
            path = f"/api/v1/trips/{trip_ids[n % len(trip_ids)]}" if n % 2 else "/login"
            try:
                status = str(session.get(server.url + path, timeout=15).status_code)
            except requests.RequestException as error:
                status = type(error).__name__
            seen.append((time.monotonic(), status))
            time.sleep(0.02)

    clients = [threading.Thread(target=load) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        wait_for(lambda: len(seen) >= 10, 20, "requests before the restart")
        ctl = [
            pg._bin("pg_ctl"),
            "-D",
            str(pg_server.directory / "data"),
            "-l",
            str(pg_server.directory / "log"),
        ]
        subprocess.run(
            pg._as_postgres([*ctl, "-m", "fast", "-w", "stop"]),
            check=True,
            timeout=60,
            capture_output=True,
        )
        down_at = time.monotonic()
        time.sleep(2)
        # restart: started again with the options it ran with (postmaster.opts); the log file
        # keeps the server off our pipes.
        subprocess.run(
            pg._as_postgres([*ctl, "-w", "restart"]), check=True, timeout=60, capture_output=True
        )
        up_at = time.monotonic()
        wait_for(
            lambda: sum(1 for t, _ in seen if t > up_at + 1) >= 20, 30, "requests after the restart"
        )
    finally:
        stop.set()
        for client in clients:
            client.join(20)
    during = Counter(s for t, s in seen if down_at <= t <= up_at)
    assert during, "no request ran while the database was down"
    assert set(during) <= {"200", "500", "503"}, (
        during
    )  # answers, never hangs or dropped connections
    assert (
        during["500"] + during["503"] > 0
    )  # the outage was seen (the trip API needs the database)
    after = [s for t, s in seen if t > up_at + 1]
    assert set(after) == {"200"}, Counter(after)  # recovered without restarting gunicorn
    print("during the outage:", during)
    # A write after the restart goes through and keeps the seats consistent.
    trip = trip_of(site, trip_ids[2])
    assert move(site, trip)[0].status_code == 200
    with site["app"].app_context():
        assert_seats_consistent(site["plan_id"])
