"""Alibaba Cloud SMS bench: how many SMS a tick sends per second through the official SDK
against the local Dysmsapi stand-in (tests/support/aliyun_standin.py), on SQLite, pacing off.

Measures the bare SDK loop (SendSms after SendSms: the floor), then one `run_tick` draining
``--messages`` due departure notices, one per worker (the per-number limits are on, as in
production), and the receipts the next tick reads. Writes the "Alibaba Cloud SMS" section of
bench/RESULTS.md.

    .venv/bin/python bench/aliyun_notify.py [--messages 2000] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import results  # noqa: E402  (bench/ is the script's own folder on sys.path)
from notify import worker_row  # noqa: E402  (the Twilio bench's workers)

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from sqlalchemy import insert, select  # noqa: E402

from dispatch import create_app  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.jobs.scheduler import run_tick  # noqa: E402
from dispatch.models import OutboundMessage, Worker  # noqa: E402
from dispatch.notify.aliyun_backend import AliyunGateway  # noqa: E402
from dispatch.notify.gateway import OutgoingSms  # noqa: E402
from tests.support.aliyun import aliyun_config  # noqa: E402
from tests.support.aliyun_standin import AliyunStandIn  # noqa: E402

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: no quiet hours
PARAMS = {"date": "3月1日", "time": "07:30", "place": "洪洞县汽车站", "plate": "晋L12345"}
BODY = "【临汾人社】乘车通知：您3月1日07:30在洪洞县汽车站上车，车牌晋L12345。"


def build(standin: AliyunStandIn, tmp: str, messages: int):
    config = {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
        "SMS_MAX_PER_SECOND": 0,
        "SMS_QUIET_HOURS": "",
        **aliyun_config(standin, ALIYUN_READ_TIMEOUT_S=10),
    }
    app = create_app(config, instance_path=tmp)
    from dispatch.services import demo

    with app.app_context():
        db.create_all()
        demo.load_demo(workers=0)
        db.session.commit()
        db.session.execute(insert(Worker), [worker_row(i) for i in range(messages)])
        workers = db.session.execute(select(Worker.id, Worker.phone)).all()
        db.session.execute(insert(OutboundMessage), [_row(w, p) for w, p in workers])
        db.session.commit()
    return app


def _row(worker_id: int, phone: str) -> dict[str, object]:
    return {
        "dedupe_key": f"bench:{worker_id}",
        "kind": "departure",
        "worker_id": worker_id,
        "to_phone": phone,
        "body": BODY,
        "params": PARAMS,
        "due_at": NOW - timedelta(minutes=1),
        "status": "pending",
        "attempts": 0,
        "segments": 1,
    }


def bare_loop(standin: AliyunStandIn, messages: int) -> float:
    gateway = AliyunGateway(aliyun_config(standin))
    started = time.perf_counter()
    for n in range(messages):
        gateway.send(OutgoingSms(n, f"+86139{n:08d}", BODY, None, "departure", PARAMS))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    n = args.messages
    with tempfile.TemporaryDirectory() as tmp, AliyunStandIn() as standin:
        standin.now = lambda: NOW
        bare = bare_loop(standin, n)
        standin.sent.clear()
        app = build(standin, tmp, n)
        started = time.perf_counter()
        counts, ticks = {"sent": 0}, 0
        while counts["sent"] < n and ticks < n:  # a tick sends TickOptions.batch (500) at most
            counts["sent"] += run_tick(app, NOW).get("sent", 0)
            ticks += 1
        tick_s = time.perf_counter() - started
        assert counts["sent"] == n and standin.duplicates() == {}, counts
        started = time.perf_counter()
        receipts = run_tick(app, NOW + timedelta(minutes=2))
        receipt_s = time.perf_counter() - started
    lines = [
        "## Alibaba Cloud SMS",
        "",
        f"`bench/aliyun_notify.py --messages {n}` on {platform.node()} "
        f"({os.cpu_count()} cores), SQLite, pacing off, the official SDK "
        "(alibabacloud-dysmsapi20170525, ACS3-HMAC-SHA256 signing) against the loopback stand-in.",
        "",
        "| run | SMS | seconds | per second | ms each |",
        "|---|---|---|---|---|",
        f"| bare SDK loop (SendSms) | {n} | {bare:.2f} | {n / bare:.0f} | {1000 * bare / n:.2f} |",
        f"| `run_tick`: outbox ticks ({ticks}) | {counts['sent']} | {tick_s:.2f} | "
        f"{counts['sent'] / tick_s:.0f} | {1000 * tick_s / counts['sent']:.2f} |",
        f"| next tick: receipts read (QuerySendDetails) | {receipts.get('receipts', 0)} | "
        f"{receipt_s:.2f} | {receipts.get('receipts', 0) / receipt_s:.0f} | "
        f"{1000 * receipt_s / max(1, receipts.get('receipts', 0)):.2f} |",
        "",
        "Production paces sending at SMS_MAX_PER_SECOND (default 1); Aliyun's own default is "
        "far above what a bureau sends. Receipts are read 200 a tick at most.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        results.write_section("## Alibaba Cloud SMS", section)


if __name__ == "__main__":
    main()
