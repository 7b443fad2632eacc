"""China carrier rules checked just before a send (DOMAIN.md, SMS in China).

- 3 identical texts to one number within 24 h are rejected: a third identical text is
  suppressed (the worker already has it twice; sending it later adds nothing).
- 5 distinct texts to one worker in a day trigger a review: a 5th distinct text in a
  local day is held to the next local day, or suppressed when urgent (an urgent same-day
  change is useless tomorrow: a coordinator must phone instead).

Rows that were, or may have been, handed to the provider count: anything with ``sent_at``,
and ``sending``/``unknown`` rows by their claim time (a concurrent tick's claim is
committed before its send, so two ticks can at worst both hold, never both send).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, case, func, or_, select

from dispatch.extensions import db
from dispatch.models import OutboundMessage
from dispatch.models import messages as m
from dispatch.models.types import UTCDateTime

MAX_DISTINCT_PER_DAY = 4
MAX_IDENTICAL_PER_24H = 2
IDENTICAL_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class CarrierVerdict:
    action: str  # "hold" or "suppress"
    code: str
    reason: str
    hold_until: datetime | None = None


@dataclass(frozen=True)
class Candidate:
    """The facts of a claimed row that the rules look at."""

    id: int
    worker_id: int | None
    to_phone: str
    body: str
    urgent: bool


def check_carrier_rules(
    candidate: Candidate, now: datetime, tz: str, owner: str
) -> CarrierVerdict | None:
    """What the carrier rules say about sending ``candidate`` at ``now``; None: send it."""
    day_start, next_day = local_day_bounds(now, tz)
    distinct_today, same_today, same_24h = _history(candidate, now, day_start, owner)
    if same_24h >= MAX_IDENTICAL_PER_24H:
        return CarrierVerdict(
            "suppress",
            "carrier:repeat",
            "same text already sent twice in 24 h; carriers reject a third",
        )
    if same_today == 0 and distinct_today >= MAX_DISTINCT_PER_DAY:
        if candidate.urgent:
            return CarrierVerdict(
                "suppress",
                "carrier:daily",
                "4 distinct SMS already sent today (carrier limit): phone the worker instead",
            )
        return CarrierVerdict(
            "hold",
            "carrier:daily",
            "held to the next day: 4 distinct SMS already sent today",
            next_day,
        )
    return None


def local_day_bounds(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants at which ``now``'s local day (in ``tz``) starts and the next starts."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=1, hours=3)).replace(hour=0)  # safe across DST days
    return start.astimezone(now.tzinfo), following.astimezone(now.tzinfo)


def _history(
    candidate: Candidate, now: datetime, day_start: datetime, owner: str
) -> tuple[int, int, int]:
    """(distinct texts today, identical texts today, identical texts in the last 24 h)."""
    params = {
        "id": candidate.id,
        "body": candidate.body,
        "to_phone": candidate.to_phone,
        "worker_id": candidate.worker_id,
        "owner": owner,
        "day_start": day_start,
        "window_start": now - IDENTICAL_WINDOW,
        "since": min(day_start, now - IDENTICAL_WINDOW),
    }
    query = _history_query(by_worker=candidate.worker_id is not None)
    distinct_today, same_today, same_24h = db.session.execute(query, params).one()
    return int(distinct_today), int(same_today), int(same_24h)


@cache
def _history_query(by_worker: bool) -> Select:
    """Built once: this runs before every send, and building SQL costs more than running it."""
    om = OutboundMessage
    moment = func.coalesce(om.sent_at, om.claimed_at)
    same = (om.body == bindparam("body")) & (om.to_phone == bindparam("to_phone"))
    today = moment >= bindparam("day_start", type_=UTCDateTime())
    recent = moment >= bindparam("window_start", type_=UTCDateTime())
    # worker_id is indexed; drivers (no worker) are matched by number.
    recipient = (
        om.worker_id == bindparam("worker_id")
        if by_worker
        else om.to_phone == bindparam("to_phone")
    )
    # Our own batch's rows still in ``sending`` are not sent yet (we send one at a time):
    # counting them would hold a worker's 5 due texts all together, forever.
    mine_unsent = (om.status == m.MSG_SENDING) & (om.claimed_by == bindparam("owner"))
    return select(
        func.count(func.distinct(case((today, om.body)))),
        func.coalesce(func.sum(case((same & today, 1), else_=0)), 0),
        func.coalesce(func.sum(case((same & recent, 1), else_=0)), 0),
    ).where(
        om.id != bindparam("id"),
        recipient,
        or_(om.sent_at.is_not(None), om.status.in_((m.MSG_SENDING, m.MSG_UNKNOWN))),
        ~mine_unsent,
        moment >= bindparam("since", type_=UTCDateTime()),
    )
