"""The outbox's rows between writing and sending: claims, expiry, and claims a dead tick left.

Rows are claimed by a conditional UPDATE (pending → sending) committed before the send,
so two tick processes never both send one; on PostgreSQL candidates are locked with
FOR UPDATE SKIP LOCKED so several ticks drain in parallel without waiting on each other.
A claim left in ``sending`` by a process that died may have been sent (Twilio has no
idempotency key): it becomes ``unknown`` and a person looks. Claims that surely never
reached the gateway (the rest of a batch when a tick stops or fails) are given back.
The send loop that drives all this: sending.py.

A template-only provider (Aliyun) cannot send a kind that has no approved template: such a
row stays ``pending`` with error_code HELD_TEMPLATE (so withdrawing or superseding it works
as for any pending row), and claims skip it until the gateway has a template for its kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from dispatch.extensions import db
from dispatch.models import OutboundMessage
from dispatch.models import messages as m
from dispatch.notify.carrier_limits import Candidate
from dispatch.notify.quiet_hours import Window
from dispatch.notify.suppression import refusal_not_to_send

STALE = "stale"  # error_code of a claim a dead tick left: maybe sent
HELD_TEMPLATE = "held:template"  # error_code of a row whose kind has no approved template
STALE_CLAIM = timedelta(minutes=10)  # far beyond TWILIO_TIMEOUT_S: only a dead tick leaves one

OM = OutboundMessage
TABLE = OutboundMessage.__table__


@dataclass(frozen=True)
class TickOptions:
    batch: int = 500
    per_second: float = 0  # 0: no pacing
    quiet: Window | None = None  # (start minute, end minute) local time
    tz: str = "Asia/Shanghai"
    owner: str = "tick"
    claim_batch: int = 50  # rows claimed per statement when unpaced (see sending._Drain.claim_size)
    budget_s: float = 240  # stop claiming after this much wall time; the next tick goes on


def claim_due(
    now: datetime,
    claimed_at: datetime,
    owner: str,
    urgent_only: bool,
    limit: int = 1,
    sendable_kinds: frozenset[str] | None = None,
) -> list[int]:
    """Atomically move up to ``limit`` due rows from pending to sending and commit; their ids.

    ``sendable_kinds``: a template-only gateway's kinds; rows held for want of a template
    are skipped unless their kind is among them now (None: a free-text gateway sends all)."""
    candidates = select(OM.id).where(OM.status == m.MSG_PENDING, OM.due_at <= now)
    if urgent_only:
        candidates = candidates.where(OM.urgent.is_(True))
    if sendable_kinds is not None:
        candidates = candidates.where(
            or_(
                OM.error_code.is_(None),
                OM.error_code != HELD_TEMPLATE,
                OM.kind.in_(sorted(sendable_kinds)),
            )
        )
    # Order by due_at alone: the (status, due_at) index then yields rows without a sort
    # (adding id made PostgreSQL sort every pending row: 11 ms a claim at 10,000 rows).
    candidates = candidates.order_by(OM.due_at).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        # Lock first, then update: inside "id IN (… LIMIT n FOR UPDATE SKIP LOCKED)" the
        # planner may rescan the subquery per row and claim far more than n rows.
        ids = list(db.session.scalars(candidates.with_for_update(skip_locked=True)))
        chosen = OM.id.in_(ids)
    else:
        ids = [0]  # SQLite runs the subquery once, and serialises writers anyway
        chosen = OM.id.in_(candidates.scalar_subquery())
    claimed = (
        []
        if not ids
        else db.session.execute(
            update(OM)
            .where(chosen, OM.status == m.MSG_PENDING)
            .values(
                status=m.MSG_SENDING,
                claimed_at=claimed_at,
                claimed_by=owner,
                attempts=OM.attempts + 1,
            )
            .returning(OM.id),
            execution_options={"synchronize_session": False},
        )
        .scalars()
        .all()
    )
    db.session.commit()
    return list(claimed)


def claim_next(now: datetime, claimed_at: datetime, owner: str, urgent_only: bool) -> int | None:
    """Claim the single next due row (see ``claim_due``); its id or None."""
    claimed = claim_due(now, claimed_at, owner, urgent_only, limit=1)
    return claimed[0] if claimed else None


def hand_stale_claims_to_people(now: datetime) -> int:
    """A claim older than STALE_CLAIM belongs to a tick that died: the send may have happened."""
    result = db.session.execute(
        update(OM)
        .where(OM.status == m.MSG_SENDING, OM.claimed_at <= now - STALE_CLAIM)
        .values(
            status=m.MSG_UNKNOWN,
            error_code=STALE,
            error_message="claimed but never finished (process died?)",
            receipt_due_at=now,  # a provider that can be asked is asked (receipts.py)
        ),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount


def expire_overdue(now: datetime) -> int:
    """Pending rows (held ones too) whose ``expires_at`` has passed are no longer worth sending."""
    result = db.session.execute(
        update(OM)
        .where(OM.status == m.MSG_PENDING, OM.expires_at.is_not(None), OM.expires_at <= now)
        .values(status=m.MSG_EXPIRED),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount


@dataclass(frozen=True)
class ClaimedSms:
    """A claimed row as plain facts (rows are re-read once per batch, not once per commit)."""

    candidate: Candidate
    expires_at: datetime | None
    attempts: int
    refusal: str | None  # why it must not be sent (consent, opt-out, number), if so
    refusal_code: str | None = None  # the same as a code (suppression.py)
    kind: str = ""
    params: dict | None = None  # the template's variables (messages.OutboundMessage.params)

    @property
    def id(self) -> int:
        return self.candidate.id


def load_claimed(ids: list[int]) -> list[ClaimedSms]:
    """The claimed rows with their workers' consent, in due order."""
    rows = db.session.scalars(
        select(OM).options(joinedload(OM.worker)).where(OM.id.in_(ids)).order_by(OM.due_at, OM.id)
    ).unique()
    claimed = []
    for row in rows:
        code, text = refusal_not_to_send(row) or (None, None)
        candidate = Candidate(row.id, row.worker_id, row.to_phone, row.body, row.urgent)
        claimed.append(
            ClaimedSms(candidate, row.expires_at, row.attempts, text, code, row.kind, row.params)
        )
    return claimed


def release_claims(ids: list[int], owner: str) -> None:
    """Give back claims that were never handed to the gateway (surely unsent)."""
    if not ids:
        return
    db.session.execute(
        update(TABLE)
        .where(TABLE.c.id.in_(ids), TABLE.c.status == m.MSG_SENDING, TABLE.c.claimed_by == owner)
        .values(
            status=m.MSG_PENDING, claimed_at=None, claimed_by=None, attempts=TABLE.c.attempts - 1
        )
    )
    db.session.commit()


def count_held_by_quiet_hours(now: datetime) -> int:
    """Due non-urgent rows left pending because it is quiet hours."""
    query = select(func.count()).where(
        OM.status == m.MSG_PENDING,
        OM.due_at <= now,
        OM.urgent.is_(False),
        func.coalesce(OM.error_code, "") != HELD_TEMPLATE,
    )
    count = db.session.scalar(query) or 0
    db.session.commit()
    return count
