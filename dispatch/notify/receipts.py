"""Delivery receipts read by polling (Aliyun's QuerySendDetails), for up to 72 h after sending.

A sent row of a polling provider carries ``receipt_due_at``. Each tick asks the provider
about the rows that are due, oldest first, and backs off between questions (1 min, 5 min,
15 min, then hourly after sending), so a busy day's thousands of rows are not asked about
every tick. A receipt only ever moves a row forward (sent → delivered or failed); a row
someone or something else moved meanwhile is left as it is. After 72 h without a final
word the row stays ``sent`` and polling stops (provider_status ``no-receipt``).

A row in doubt (``unknown``: no answer to the send, or a process died mid-send) is looked
up by our id (OutId) among the number's messages of that day on the same ladder. Found, it
takes the provider's word (sent, delivered or failed): it was never sent twice, and nobody
need phone to find out. Not found, it stays ``unknown`` for a person: it is never resent.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update

from dispatch.extensions import db
from dispatch.models import OutboundMessage, Worker
from dispatch.models import messages as m
from dispatch.notify.callbacks import aliyun_time
from dispatch.notify.gateway import Receipt, SmsError, SmsGateway
from dispatch.notify.suppression import apply_provider_error

log = logging.getLogger("dispatch.sms")

RECEIPT_WINDOW = timedelta(hours=72)  # receipts can come this late (DOMAIN.md)
FIRST_POLLS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
HOURLY = timedelta(hours=1)
PROVIDER_ZONE = ZoneInfo("Asia/Shanghai")  # Aliyun's SendDate is Beijing time
BATCH = 200  # receipts read per tick at most; the rest are due next tick
ERROR_STREAK = 3  # consecutive failed questions: the provider is down, stop this tick

OM = OutboundMessage


def first_receipt_poll(sent_at: datetime) -> datetime:
    """When to first ask about a message sent at ``sent_at``."""
    return sent_at + FIRST_POLLS[0]


def next_receipt_poll(sent_at: datetime, now: datetime) -> datetime | None:
    """The next moment after ``now`` on the back-off ladder, or None past the 72 h window."""
    for offset in FIRST_POLLS:
        if sent_at + offset > now:
            return sent_at + offset
    hours = int((now - sent_at) / HOURLY) + 1
    moment = sent_at + hours * HOURLY
    return moment if moment - sent_at <= RECEIPT_WINDOW else None


def read_due_receipts(gateway: SmsGateway, now: datetime, limit: int = BATCH) -> Counter[str]:
    """Ask the provider about the rows whose receipt is due; counts: receipts (asked),
    delivered, undelivered, receipt_errors."""
    query = getattr(gateway, "query_receipt", None)
    counts: Counter[str] = Counter()
    if query is None:
        return counts
    rows = _due(gateway.name, now, limit)
    db.session.commit()  # end the read transaction before the (slow) questions
    streak = 0
    for row in rows:
        if streak >= ERROR_STREAK:
            log.warning("SMS provider failing to answer receipts; stopping this tick")
            break
        try:
            receipt = query(
                row["to_phone"],
                row["sent_at"].astimezone(PROVIDER_ZONE),
                row["sid"],
                str(row["id"]),
            )
        except SmsError as error:
            streak += 1
            counts["receipt_errors"] += 1
            log.warning("receipt for message %s not read: %s", row["id"], error)
            _reschedule(row, now, counts)
            continue
        streak = 0
        if row["status"] == m.MSG_UNKNOWN:
            _settle_doubt(row, receipt, now, counts)
        else:
            counts["receipts"] += 1
            _apply(row, receipt or Receipt("waiting"), now, counts)
    db.session.commit()
    return +counts


def _due(provider: str, now: datetime, limit: int) -> list[dict[str, Any]]:
    ours = (OM.status == m.MSG_SENT) & (OM.provider == provider)
    in_doubt = (OM.status == m.MSG_UNKNOWN) & (func.coalesce(OM.provider, provider) == provider)
    found = db.session.execute(
        select(
            OM.id,
            OM.status,
            OM.to_phone,
            func.coalesce(OM.sent_at, OM.claimed_at),
            OM.provider_sid,
            OM.receipt_due_at,
            OM.worker_id,
        )
        .where(or_(ours, in_doubt), OM.receipt_due_at.is_not(None), OM.receipt_due_at <= now)
        .order_by(OM.receipt_due_at)
        .limit(limit)
    )
    return [
        {
            "id": i,
            "status": st,
            "to_phone": p,
            "sent_at": s,
            "sid": sid,
            "due": d,
            "worker_id": w,
            "provider": provider,
        }
        for i, st, p, s, sid, d, w in found
        if s is not None
    ]


def _settle_doubt(
    row: dict[str, Any], receipt: Receipt | None, now: datetime, counts: Counter[str]
) -> None:
    """The provider has the row in doubt (it was sent: take its word) or not (yet)."""
    if receipt is None:
        following = next_receipt_poll(row["sent_at"], now)
        _move(row, keep_polling=following)  # past 72 h: a person decides, as before
        counts["in_doubt"] += 1
        return
    found = {"provider": row["provider"], "sent_at": row["sent_at"], "error_code": None}
    if not _move(row, status=m.MSG_SENT, provider_status="accepted", **found, keep_polling=now):
        return
    counts["found_sent"] += 1
    row.update(status=m.MSG_SENT, due=now)
    _apply(row, receipt, now, counts)


def _apply(row: dict[str, Any], receipt: Receipt, now: datetime, counts: Counter[str]) -> None:
    if receipt.status == "delivered":
        arrived = aliyun_time(receipt.received_at) or now
        if _move(row, status=m.MSG_DELIVERED, provider_status="delivered", delivered_at=arrived):
            counts["delivered"] += 1
    elif receipt.status == "failed":
        code = (receipt.error_code or "failed")[:64]
        moved = _move(
            row,
            status=m.MSG_FAILED,
            provider_status="failed",
            error_code=code,
            error_message=f"receipt: not delivered ({code})",
        )
        if moved:
            counts["undelivered"] += 1
            worker = db.session.get(Worker, row["worker_id"]) if row["worker_id"] else None
            apply_provider_error(worker, code, now)
    else:
        _reschedule(row, now, counts)


def _reschedule(row: dict[str, Any], now: datetime, counts: Counter[str]) -> None:
    following = next_receipt_poll(row["sent_at"], now)
    if following is None and row["status"] == m.MSG_SENT:
        _move(row, provider_status="no-receipt")
        counts["no_receipt"] += 1
        return
    _move(row, keep_polling=following)


def _move(row: dict[str, Any], keep_polling: datetime | None = None, **values: Any) -> bool:
    """Write ``values`` if the row is still as we read it, and as due (never backwards)."""
    result = db.session.execute(
        update(OM)
        .where(OM.id == row["id"], OM.status == row["status"], OM.receipt_due_at == row["due"])
        .values(receipt_due_at=keep_polling, **values),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1
