"""China carrier rules checked just before a send (DOMAIN.md, SMS in China).

- 3 identical texts to one number within 24 h are rejected: a third identical text is
  suppressed (the worker already has it twice; sending it later adds nothing).
- 5 distinct texts to one worker in a day trigger a review: a 5th distinct text in a
  local day is held to the next local day, or suppressed when urgent (an urgent same-day
  change is useless tomorrow: a coordinator must phone instead).

- A provider's own frequency limits per number (the gateway's ``per_number_limits``; Aliyun:
  1 a minute, 5 an hour, 10 a day by default): a row that would exceed one is held until the
  oldest counted message leaves that window. Counted by number, whoever the row belongs to, so
  verification codes (no worker) count too. Windows roll, so a natural-day limit is kept too.

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

RATE = "carrier:rate"  # error_code of a row held by a per-number frequency limit
WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
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


Limits = tuple[tuple[int, int], ...]  # (most messages, window in seconds), e.g. ((1, 60),)


def parse_per_number_limits(text: str | None) -> Limits:
    """Parse e.g. 1/minute,5/hour,10/day into ((1, 60), (5, 3600), (10, 86400)); empty: none."""
    limits = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        count, _, unit = part.strip().partition("/")
        seconds = WINDOWS.get(unit.strip().lower().rstrip("s"))
        if seconds is None or not count.strip().isdigit() or int(count) < 1:
            raise ValueError(f"per-number limit {part.strip()!r}: use e.g. 1/minute,5/hour,10/day")
        limits.append((int(count), seconds))
    return tuple(sorted(limits, key=lambda limit: limit[1]))


def check_carrier_rules(
    candidate: Candidate, now: datetime, tz: str, owner: str
) -> CarrierVerdict | None:
    """What the carrier rules say about sending ``candidate`` at ``now``; None: send it.

    One query per candidate; the outbox uses ``BatchCarrierRules`` (one per claimed batch)."""
    day_start, next_day = local_day_bounds(now, tz)
    distinct_today, same_today, same_24h = _history(candidate, now, day_start, owner)
    return _verdict(candidate, distinct_today, same_today, same_24h, next_day)


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


class BatchCarrierRules:
    """The carrier rules for one claimed batch: one history query, then bookkeeping in memory.

    The history is read once, after the batch's claim is committed, so the ordering that
    makes concurrent ticks safe is kept (a tick that claims later sees our claims, as
    ``sending``, when it reads its own history). Our batch's own rows are left out of that
    query (they are not sent yet); what this batch hands to the provider is added with
    ``record_handed`` as it goes, so a worker's 5th distinct text in one batch is still held.
    """

    def __init__(
        self,
        candidates: list[Candidate],
        now: datetime,
        tz: str,
        owner: str,
        per_number: Limits = (),
    ) -> None:
        self.now = now
        self.per_number = per_number
        # number -> moments of rows that were or may have been sent to it (per-number limits)
        self.by_number: dict[str, list[datetime]] = {}
        self.day_start, self.next_day = local_day_bounds(now, tz)
        self.window_start = now - IDENTICAL_WINDOW
        # recipient key -> [(body, to_phone, moment)] for rows that were or may have been sent
        self.history: dict[tuple[str, object], list[tuple[str, str, datetime]]] = {}
        worker_ids = {c.worker_id for c in candidates if c.worker_id is not None}
        # Numbers: a non-worker's history, and every number the per-number limits count.
        phones = {c.to_phone for c in candidates if per_number or c.worker_id is None}
        longest = timedelta(seconds=max((seconds for _, seconds in per_number), default=0))
        since = min(self.day_start, self.window_start, now - longest)
        if worker_ids:
            for worker_id, body, to_phone, moment in db.session.execute(
                _batch_history_query(by_worker=True),
                {"keys": list(worker_ids), "owner": owner, "since": since},
            ):
                self.history.setdefault(("w", worker_id), []).append((body, to_phone, moment))
        if phones:
            for _worker_id, body, to_phone, moment in db.session.execute(
                _batch_history_query(by_worker=False),
                {"keys": list(phones), "owner": owner, "since": since},
            ):
                self.history.setdefault(("p", to_phone), []).append((body, to_phone, moment))
                self.by_number.setdefault(to_phone, []).append(moment)

    @staticmethod
    def _key(candidate: Candidate) -> tuple[str, object]:
        if candidate.worker_id is not None:
            return ("w", candidate.worker_id)
        return ("p", candidate.to_phone)

    def check(self, candidate: Candidate) -> CarrierVerdict | None:
        """Same verdicts as ``check_carrier_rules``, counting what this batch already handed over."""
        rows = self.history.get(self._key(candidate), ())
        bodies_today: set[str] = set()
        same_today = same_24h = 0
        for body, to_phone, moment in rows:
            today = moment >= self.day_start
            if today:
                bodies_today.add(body)
            if body == candidate.body and to_phone == candidate.to_phone:
                same_today += today
                same_24h += moment >= self.window_start
        verdict = _verdict(candidate, len(bodies_today), same_today, same_24h, self.next_day)
        return verdict or self.check_rate(candidate)

    def check_rate(self, candidate: Candidate) -> CarrierVerdict | None:
        """The provider's per-number frequency limits: hold until the window has room."""
        moments = sorted(self.by_number.get(candidate.to_phone, ()))
        until = None
        for count, seconds in self.per_number:
            window = timedelta(seconds=seconds)
            recent = [m for m in moments if m > self.now - window]
            if len(recent) >= count:
                free_at = recent[len(recent) - count] + window
                until = free_at if until is None else max(until, free_at)
        if until is None:
            return None
        return CarrierVerdict(
            "hold", RATE, "held: the provider's per-number frequency limit is reached", until
        )

    def record_handed(self, candidate: Candidate, moment: datetime) -> None:
        """``candidate`` was (or may have been) handed to the provider at ``moment``."""
        self.by_number.setdefault(candidate.to_phone, []).append(moment)
        entry = (candidate.body, candidate.to_phone, moment)
        self.history.setdefault(self._key(candidate), []).append(entry)
        if candidate.worker_id is not None:
            # A driver's history is matched by number, whoever the row belongs to.
            self.history.get(("p", candidate.to_phone), []).append(entry)


def _verdict(
    candidate: Candidate, distinct_today: int, same_today: int, same_24h: int, next_day: datetime
) -> CarrierVerdict | None:
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


@cache
def _batch_history_query(by_worker: bool) -> Select:
    """Rows counted by the rules for a set of workers (or of numbers, for non-workers)."""
    om = OutboundMessage
    moment = func.coalesce(om.sent_at, om.claimed_at)
    key = om.worker_id if by_worker else om.to_phone
    mine_unsent = (om.status == m.MSG_SENDING) & (om.claimed_by == bindparam("owner"))
    return select(om.worker_id, om.body, om.to_phone, moment).where(
        key.in_(bindparam("keys", expanding=True)),
        or_(om.sent_at.is_not(None), om.status.in_((m.MSG_SENDING, m.MSG_UNKNOWN))),
        ~mine_unsent,
        moment >= bindparam("since", type_=UTCDateTime()),
    )
