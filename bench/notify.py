"""Notifications bench: drain 10,000 due SMS through a local Twilio-compatible server.

Measures, with pacing off: a bare twilio-client loop (the floor), the outbox tick on
SQLite and on PostgreSQL in one process (overhead per message = the difference), and
4 tick processes at once on PostgreSQL (zero duplicates counted at the server).
Writes the figures to the "Notifications" section of bench/RESULTS.md.

    .venv/bin/python bench/notify.py [--messages 10000] [--no-write]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import results  # noqa: E402  (bench/ is the script's own folder on sys.path)

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from sqlalchemy import func, insert, select  # noqa: E402

from dispatch import create_app  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.models import OutboundMessage, Worker  # noqa: E402
from dispatch.notify.gateway import OutgoingSms  # noqa: E402
from dispatch.notify.outbox import TickOptions  # noqa: E402
from dispatch.notify.sending import send_due_messages  # noqa: E402
from dispatch.notify.twilio_backend import TwilioGateway  # noqa: E402
from tests.support import pg  # noqa: E402
from tests.support.fake_twilio import FakeTwilio  # noqa: E402

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: no quiet hours
PER_WORKER = 4  # the carrier's daily maximum of distinct texts
BODY = "【临汾人社】乘车通知：您3月1日07:30在洪洞县汽车站上车，车牌晋L12345，座位{n}号。回T退订"


@dataclass(frozen=True)
class Run:
    label: str
    seconds: float
    sent: int
    duplicates: int = 0

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds

    @property
    def ms_each(self) -> float:
        return 1000 * self.seconds / self.sent


def config(uri: str, fake_url: str, tmp: str) -> dict[str, object]:
    return {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": uri,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": FakeTwilio().account_sid,
        "TWILIO_AUTH_TOKEN": FakeTwilio().auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": fake_url,
        "SMS_MAX_PER_SECOND": 0,
        "SMS_QUIET_HOURS": "",
    }


def seed(uri: str, fake_url: str, tmp: str, messages: int) -> None:
    """Reference data, messages/4 workers and ``messages`` due rows, bulk-inserted."""
    from dispatch.services import demo

    app = create_app(config(uri, fake_url, tmp), instance_path=tmp)
    with app.app_context():
        db.create_all()
        demo.load_demo(workers=0)
        db.session.commit()
        count = -(-messages // PER_WORKER)
        db.session.execute(insert(Worker), [worker_row(i) for i in range(count)])
        ids = list(db.session.scalars(select(Worker.id).order_by(Worker.id)))
        phones = dict(db.session.execute(select(Worker.id, Worker.phone)).all())
        rows = [_message(n, ids[n // PER_WORKER], phones) for n in range(messages)]
        db.session.execute(insert(OutboundMessage), rows)
        db.session.commit()
        db.engine.dispose()
    app.extensions["sms_gateway"].close()


def worker_row(i: int) -> dict[str, object]:
    """Worker ``i`` of a bench, for a bulk insert (bench/aliyun_notify.py too)."""
    return {
        "name": f"工人{i}",
        "id_number": f"141002{19800101 + i % 28:08d}{i:04d}"[:18],
        "phone": f"+86138{i:08d}",
        "birth_date": date(1980, 1, 1),
        "sex": "M",
        "county_id": "hongtong",
        "pickup_site_id": "hongtong",
        "destination_site_id": "js-kunshan",
        "earliest_date": date(2026, 3, 1),
        "latest_date": date(2026, 3, 1),
        "version": 1,
    }


def _message(n: int, worker_id: int, phones: dict[int, str]) -> dict[str, object]:
    return {
        "dedupe_key": f"bench:{n}",
        "kind": "departure",
        "worker_id": worker_id,
        "to_phone": phones[worker_id],
        "body": BODY.format(n=n % PER_WORKER + 1),
        "due_at": NOW - timedelta(minutes=1),
        "status": "pending",
        "attempts": 0,
        "segments": 2,
    }


def bare_loop(fake: FakeTwilio, tmp: str, messages: int) -> Run:
    """The floor: the twilio client alone, message after message."""
    gateway = TwilioGateway(config("sqlite://", fake.url, tmp))
    started = time.perf_counter()
    for n in range(messages):
        gateway.send(OutgoingSms(n, f"+86139{n:08d}", BODY.format(n=n % PER_WORKER + 1)))
    seconds = time.perf_counter() - started
    gateway.close()
    return Run("bare twilio client loop", seconds, messages)


def drain(uri: str, fake_url: str, tmp: str, messages: int) -> tuple[Counter[str], float]:
    """One process draining the whole outbox in one tick; (counts, seconds)."""
    app = create_app(config(uri, fake_url, tmp), instance_path=tmp)
    options = TickOptions(batch=messages + 10, budget_s=3600, owner=f"bench:{os.getpid()}")
    with app.app_context():
        started = time.perf_counter()
        counts = send_due_messages(app.extensions["sms_gateway"], NOW, options)
        seconds = time.perf_counter() - started
        db.engine.dispose()
    app.extensions["sms_gateway"].close()
    return counts, seconds


def _drain_in_child(args: tuple[str, str, str, int]) -> tuple[Counter[str], float]:
    return drain(*args)


def outbox_run(
    label: str, uri: str, fake: FakeTwilio, tmp: str, messages: int, processes: int
) -> Run:
    seed(uri, fake.url, tmp, messages)
    with fake.lock:
        fake.created.clear()
    started = time.perf_counter()
    if processes == 1:
        results = [drain(uri, fake.url, tmp, messages)]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.map(_drain_in_child, [(uri, fake.url, tmp, messages)] * processes)
    wall = time.perf_counter() - started
    sent = sum(counts["sent"] for counts, _ in results)
    assert sent == messages == len(fake.created), (sent, messages, results)
    seconds = wall if processes > 1 else results[0][1]
    return Run(label, seconds, sent, duplicates=len(fake.duplicates()))


def check_outbox(uri: str, tmp: str, fake_url: str) -> dict[str, int]:
    app = create_app(config(uri, fake_url, tmp), instance_path=tmp)
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
            ).all()
        )
        db.engine.dispose()
    app.extensions["sms_gateway"].close()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    n = args.messages
    tmp = tempfile.mkdtemp(prefix="bench-notify-")
    runs: list[Run] = []
    server = pg.Server.start() if pg.available() else None
    try:
        with FakeTwilio() as fake:
            runs.append(bare_loop(fake, tmp, n))
            runs.append(
                outbox_run(
                    "outbox, SQLite file, 1 process", f"sqlite:///{tmp}/bench.db", fake, tmp, n, 1
                )
            )
            if server is not None:
                runs.append(
                    outbox_run(
                        "outbox, PostgreSQL, 1 process", server.create_database(), fake, tmp, n, 1
                    )
                )
                parallel_uri = server.create_database()
                runs.append(
                    outbox_run("outbox, PostgreSQL, 4 processes", parallel_uri, fake, tmp, n, 4)
                )
                print(
                    "statuses after the 4-process drain:", check_outbox(parallel_uri, tmp, fake.url)
                )
    finally:
        if server is not None:
            server.stop()
    report = render(runs, n)
    print(report)
    if not args.no_write:
        write_section(report)


def render(runs: list[Run], n: int) -> str:
    bare = runs[0]
    lines = [
        "## Notifications",
        "",
        f"`bench/notify.py`, {datetime.now(UTC):%Y-%m-%d}, {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. {n:,} due SMS (4 distinct per worker) drained through the local "
        "Twilio-compatible server (tests/support/fake_twilio.py, loopback, no added latency) "
        "with the real twilio client, pacing off, quiet hours off.",
        "",
        "| run | seconds | SMS/s | ms per SMS | outbox overhead per SMS | duplicates at the server |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        overhead = "—" if run is bare else f"{run.ms_each - bare.ms_each:.2f} ms"
        lines.append(
            f"| {run.label} | {run.seconds:.1f} | {run.per_second:,.0f} | {run.ms_each:.2f} "
            f"| {overhead} | {'—' if run is bare else run.duplicates} |"
        )
    lines += [
        "",
        "Duplicates: the same number and text created twice at the server within a run. "
        "The 4-process run includes process start-up; the 1-process runs time the tick alone.",
        f"Load average at the end: {os.getloadavg()[0]:.1f} (the machine is shared).",
        "",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace (or add) this bench's section of RESULTS.md, leaving the others alone."""
    results.write_section("## Notifications", section)


if __name__ == "__main__":
    main()
