"""One worker's journey and the notices it calls for: timing, texts, suppression (no writes).

The departure notice goes out once the bus has its plate (Trip.coach): until then a worker
whose pickup is under 48 hours away is told they are on the list (``waiting``, due 48 hours
before at the earliest), the reminder waits too, and assigning the coach (a TripChange
"bus", changes.py) brings the departure notice.

Due times: the departure notice now; the reminder at 18:00 local the evening before the
pickup (skipped when that has passed: the departure notice just said the same); the
welfare-pack reminder at 18:00 the evening before the handout, or now if that has passed
and the handout has not begun. Non-urgent rows are never due inside quiet hours (moved to
their end). A notice is urgent when the journey is today, or when waiting for the end of
quiet hours would make it arrive after the pickup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Driver, Plan, SeatAssignment, Trip, TripStop, WelfareHandout, Worker
from dispatch.models import messages as m
from dispatch.notify.quiet_hours import in_quiet_hours, next_allowed_time, parse_quiet_hours
from dispatch.notify.suppression import refusal_with_code
from dispatch.notify.writer import Draft
from dispatch.services import driver_links
from dispatch.services.notices import texts
from dispatch.services.notices.templates import (
    CANCELLATION,
    CHANGE,
    DEPARTURE,
    DRIVER,
    REMINDER,
    TEMPLATES,
    WAITING,
    WELFARE,
)
from dispatch.services.place_names import place_name

# The kinds publishing and seat changes write, in the order the pages list them.
KINDS = (DEPARTURE, WAITING, REMINDER, WELFARE, CHANGE, CANCELLATION, DRIVER)
ALL_KINDS = (*KINDS, *(k for k in TEMPLATES if k not in KINDS))
WAITING_AHEAD = timedelta(hours=48)  # "on the list" only when the pickup is this close
EVENING = time(18, 0)
DEFAULT_HANDOUT = timedelta(hours=1)  # before departure, at the pickup point
HANDOUT_STEP = timedelta(minutes=5)  # a default window opens on a round five minutes


def handout_opens(eta: datetime) -> datetime:
    """When the default welfare window opens for a bus due at ``eta``: an hour before it, on the
    five minutes (06:55 for 07:59: planned times fall on any minute, and "07:59-08:59" read as a
    typing slip). Whole-hour zones keep the minutes, so UTC rounds as local time does."""
    opens = eta - DEFAULT_HANDOUT
    return opens - (opens - opens.replace(minute=0, second=0, microsecond=0)) % HANDOUT_STEP


@dataclass(frozen=True)
class NoticeSettings:
    """The configuration values the notices need (CONTRACTS.md §2)."""

    signature: str = "【临汾人社】"
    tz: str = "Asia/Shanghai"
    quiet: tuple[int, int] | None = (22 * 60, 7 * 60)
    hotline: str = "0357-12333"
    price_per_segment: float = 0.05
    # The driver's notice carries the manifest link when set (DRIVER_SMS_LINK): drivers are
    # few and known, and the link's domain is registered with the SMS provider. Workers'
    # notices never carry links (carriers block unregistered URLs to Chinese numbers).
    driver_link_base: str = ""  # PUBLIC_BASE_URL, or "" for no link
    secret_key: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | NoticeSettings) -> NoticeSettings:
        """From app.config (or any mapping with the same keys); a NoticeSettings passes through."""
        if isinstance(config, NoticeSettings):
            return config
        return cls(
            signature=signature_of(config),
            tz=str(config.get("TIMEZONE", cls.tz)),
            quiet=parse_quiet_hours(config.get("SMS_QUIET_HOURS", "22:00-07:00")),
            hotline=str(config.get("EMERGENCY_PHONE", cls.hotline)),
            price_per_segment=float(config.get("SMS_PRICE_PER_SEGMENT", cls.price_per_segment)),
            driver_link_base=_link_base(config),
            secret_key=str(config.get("SECRET_KEY") or ""),
        )

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)  # a season's preview asked for it a million times

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def at_local(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone)


Settings = Mapping[str, Any] | NoticeSettings


def signature_of(config: Mapping[str, Any]) -> str:
    """The signature the phone shows before every text: 【name】, Aliyun's registered sign
    name when it sends (it adds its own, whatever SMS_SIGNATURE says), else SMS_SIGNATURE."""
    if str(config.get("SMS_BACKEND", "")).lower() == "aliyun":
        return f"【{config.get('ALIYUN_SMS_SIGN_NAME') or '临汾人社'}】"
    return str(config.get("SMS_SIGNATURE") or NoticeSettings.signature)


def _link_base(config: Mapping[str, Any]) -> str:
    """PUBLIC_BASE_URL when links may go by SMS: DRIVER_SMS_LINK, https and a public host
    (a forgotten default of http://127.0.0.1 must not send drivers a link that opens nothing)."""
    base = str(config.get("PUBLIC_BASE_URL") or "")
    parts = urlsplit(base)
    public = parts.scheme == "https" and parts.hostname not in (
        None,
        "localhost",
        "127.0.0.1",
        "::1",
    )
    # A template-only provider takes no link in a variable: its drivers get the number.
    free_text = str(config.get("SMS_BACKEND", "console")).lower() != "aliyun"
    return base if config.get("DRIVER_SMS_LINK") and public and free_text else ""


@dataclass(frozen=True)
class Journey:
    """One worker's seat on one trip, with the facts the texts need."""

    worker: Worker
    trip: Trip
    seat_no: int
    pickup_at: datetime
    pickup_place: str
    pickup_site_id: str | None = None  # where the worker boards (its stop, else their own point)


def journey_drafts(
    j: Journey,
    version: int,
    now: datetime,
    s: NoticeSettings,
    handouts: Mapping[tuple[str, date], WelfareHandout],
    kinds: Iterable[str] = (DEPARTURE, REMINDER, WELFARE),
) -> list[Draft]:
    """The departure notice (or, with no plate yet, the waiting one), reminder and welfare
    reminder of one journey: those still useful."""
    if j.pickup_at <= now:
        return []
    makers = {
        DEPARTURE: lambda: _departure(j, version, now, s),
        WAITING: lambda: _waiting(j, version, now, s),
        REMINDER: lambda: _reminder(j, version, now, s),
        WELFARE: lambda: _welfare(j, version, now, s, handouts),
    }
    return [d for kind in kinds if kind in makers and (d := makers[kind]()) is not None]


def driver_drafts(
    trip: Trip, now: datetime, s: NoticeSettings, version: int = 1, passengers: int | None = None
) -> list[Draft]:
    """The driver notice to each driver set on the trip, with the manifest link if configured
    (``passengers``: its seats, when the caller has counted them already)."""
    if trip.departure_at <= now:
        return []
    drivers = {d.id: d for d in (trip.driver1, trip.driver2) if d is not None}
    link = ""
    if s.driver_link_base and s.secret_key and trip.manifest_key:
        link = driver_links.link_for(trip, s.secret_key, s.driver_link_base)
    local = s.local(trip.departure_at)
    notice = texts.driver(
        s.signature,
        day=local.date(),
        at=local.time(),
        plate=plate_of(trip) or "车辆另行通知",
        stops=[first_place(trip)] + [stop.site.name_zh for stop in trip.stops[1:]],
        passengers=len(trip.seats) if passengers is None else passengers,
        phone=s.hotline,
        link=link,
    )
    return [
        driver_draft(
            driver, trip, notice, f"{DRIVER}:d{driver.id}:t{trip.id}:v{version}", now, s, version
        )
        for driver in drivers.values()
    ]


def driver_draft(
    driver: Driver,
    trip: Trip,
    notice: texts.Notice,
    dedupe_key: str,
    now: datetime,
    s: NoticeSettings,
    version: int = 1,
) -> Draft:
    """One notice to one driver about a trip, due at once (outside quiet hours unless the trip
    is today), expiring when it leaves."""
    due, urgent = send_timing(now, trip.departure_at, now, s)
    return Draft(
        dedupe_key=dedupe_key,
        kind=notice.kind,
        version=version,
        worker_id=None,
        driver_id=driver.id,
        trip_id=trip.id,
        to_phone=driver.phone,
        body=notice.body,
        urgent=urgent,
        due_at=due,
        expires_at=trip.departure_at,
        params=notice.params,
    )


def journey_of(seat: SeatAssignment) -> Journey:
    """The journey a seat stands for: the worker's pickup stop on that trip, or its first stop."""
    return journey_at(seat.trip, seat.worker, seat.seat_no)


def journey_at(trip: Trip, worker: Worker, seat_no: int) -> Journey:
    """The journey of ``worker`` in seat ``seat_no`` of ``trip`` (journey_of, for callers that
    read seats as columns)."""
    stop = pickup_stop(trip, worker)
    site = stop.site if stop is not None else worker.pickup_site
    pickup_at = stop.eta if stop is not None else trip.departure_at
    return Journey(
        worker, trip, seat_no, pickup_at, place_name(site.name_zh, site.address), site.id
    )


def first_place(trip: Trip) -> str:
    """Where a driver starts: the first stop as its passengers are told to be there (the
    assembly point, 洪洞县人社局门前广场, not the county 洪洞县); "" for a trip with no stops."""
    if not trip.stops:
        return ""
    site = trip.stops[0].site
    return place_name(site.name_zh, site.address)


def pickup_stop(trip: Trip, worker: Worker) -> TripStop | None:
    pickups = [stop for stop in trip.stops if stop.kind == "pickup"]
    own = [stop for stop in pickups if stop.site_id == worker.pickup_site_id]
    return (own or pickups or [None])[0]


def _departure(j: Journey, version: int, now: datetime, s: NoticeSettings) -> Draft | None:
    if j.trip.coach is None:  # no plate yet: the short "on the list" notice instead
        return _waiting(j, version, now, s)
    notice = texts.departure(s.signature, **journey_facts(j, s), **contact_of(j, s))
    due, urgent = send_timing(now, j.pickup_at, now, s)
    return worker_draft(j, version, notice, due, j.pickup_at, urgent)


def _waiting(j: Journey, version: int, now: datetime, s: NoticeSettings) -> Draft | None:
    """On the list, bus to follow: due 48 hours before the pickup (now if closer)."""
    if j.trip.coach is not None:
        return None
    notice = texts.waiting(s.signature, day=s.local(j.pickup_at).date())
    due, urgent = send_timing(max(now, j.pickup_at - WAITING_AHEAD), j.pickup_at, now, s)
    return worker_draft(j, version, notice, due, j.pickup_at, urgent)


def _reminder(j: Journey, version: int, now: datetime, s: NoticeSettings) -> Draft | None:
    wanted = s.at_local(s.local(j.pickup_at).date() - timedelta(days=1), EVENING)
    if wanted <= now or j.trip.coach is None:
        return None  # the notice sent now says the same; without a plate, the coach's will
    notice = texts.reminder(s.signature, **journey_facts(j, s))
    due, urgent = send_timing(wanted, j.pickup_at, now, s)
    return worker_draft(j, version, notice, due, j.pickup_at, urgent)


def _welfare(
    j: Journey,
    version: int,
    now: datetime,
    s: NoticeSettings,
    handouts: Mapping[tuple[str, date], WelfareHandout],
) -> Draft | None:
    place, opens, closes = handout_of(j, s, handouts)
    if opens <= now:
        return None
    wanted = max(now, s.at_local(s.local(opens).date() - timedelta(days=1), EVENING))
    notice = texts.welfare(
        s.signature,
        place=place,
        day=s.local(opens).date(),
        opens=s.local(opens).time(),
        closes=s.local(closes).time(),
    )
    due, urgent = send_timing(wanted, opens, now, s)
    return worker_draft(j, version, notice, due, closes, urgent)


def handout_of(
    j: Journey, s: NoticeSettings, handouts: Mapping[tuple[str, date], WelfareHandout]
) -> tuple[str, datetime, datetime]:
    """(place, opens, closes) of the worker's welfare pack: the pickup point's handout that
    day, else the hour before the bus reaches them, there (the SMS and /ticket agree)."""
    handout = handouts.get((_pickup_site_id(j), s.local(j.pickup_at).date()))
    if handout is not None:
        return handout.place, handout.starts_at, handout.ends_at
    return j.pickup_place, handout_opens(j.pickup_at), j.pickup_at


def welfare_handouts(plan: Plan) -> dict[tuple[str, date], WelfareHandout]:
    rows = db.session.scalars(
        select(WelfareHandout).where(
            WelfareHandout.date >= plan.date_from - timedelta(days=1),
            WelfareHandout.date <= plan.date_to + timedelta(days=1),
        )
    )
    return {(h.site_id, h.date): h for h in rows}


def _pickup_site_id(j: Journey) -> str:
    if j.pickup_site_id is not None:
        return j.pickup_site_id
    stop = pickup_stop(j.trip, j.worker)
    return stop.site_id if stop is not None else j.worker.pickup_site_id


def plate_of(trip: Trip) -> str | None:
    return trip.coach.plate if trip.coach is not None else None


def journey_facts(j: Journey, s: NoticeSettings) -> dict[str, Any]:
    """The facts a worker is told: day, time, pickup place, plate, seat."""
    local = s.local(j.pickup_at)
    return {
        "day": local.date(),
        "at": local.time().replace(second=0, microsecond=0),
        "pickup": j.pickup_place,
        "plate": plate_of(j.trip) or "",
        "seat": j.seat_no,
    }


def contact_of(j: Journey, s: NoticeSettings) -> dict[str, Any]:
    """The driver's phone, or the bureau's hotline (labelled so) while no driver is set."""
    driver = j.trip.contact_driver
    if driver is not None:
        return {"phone": driver.phone, "by_driver": True}
    return {"phone": s.hotline, "by_driver": False}


def send_timing(
    wanted: datetime, deadline: datetime, now: datetime, s: NoticeSettings
) -> tuple[datetime, bool]:
    """(due, urgent): ``wanted`` moved out of quiet hours, unless the journey is today or the
    end of quiet hours would come too late for ``deadline``."""
    wanted = max(wanted, now)
    if s.local(deadline).date() == s.local(now).date():
        return wanted, True
    if not in_quiet_hours(wanted, s.quiet, s.tz):
        return wanted, False
    end = next_allowed_time(wanted, s.quiet, s.tz)
    return (wanted, True) if end >= deadline else (end, False)


def worker_draft(
    j: Journey,
    version: int,
    notice: texts.Notice,
    due: datetime,
    expires: datetime,
    urgent: bool,
) -> Draft:
    """The outbox row of one worker's notice; ``suppressed`` with its reason when SMS cannot
    reach them (the pages show whom to phone, and the text to read out)."""
    draft = Draft(
        dedupe_key=f"{notice.kind}:w{j.worker.id}:t{j.trip.id}:v{version}",
        kind=notice.kind,
        version=version,
        worker_id=j.worker.id,
        driver_id=None,
        trip_id=j.trip.id,
        to_phone=j.worker.phone,
        body=notice.body,
        urgent=urgent,
        due_at=due,
        expires_at=expires,
        params=notice.params,
    )
    refusal = refusal_with_code(j.worker)
    if refusal is None:
        return draft
    code, reason = refusal
    return replace(draft, status=m.MSG_SUPPRESSED, error_code=code, error_message=reason)
