"""Arrival at the gate: the driver confirms a drop-off stop and whom they handed over there.

Who gets off where: a passenger leaves at the drop-off stop of their destination; at the
last stop everyone still aboard gets off (a destination the route does not serve is sorted
out there, with the employer's contact). Confirming a stop again corrects it: the count and
the names are replaced, the time of the first confirmation stays, and nobody gets a second
SMS (one arrival notice per worker and bus).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.extensions import db
from dispatch.models import SeatAssignment, Trip, TripStop, User, Worker
from dispatch.models.workers import ARRIVED, BOARDED
from dispatch.services import audit
from dispatch.services import manifest as manifests
from dispatch.services.notices import single, templates
from dispatch.services.notices.journeys import NoticeSettings
from dispatch.services.notices.texts import cn_phone

NO_CONTACT = "调度中心"  # the SMS names the bureau's hotline when the employer gave no contact


class ArrivalError(Exception):
    """An arrival that cannot be recorded (not a drop-off of this bus, bus not running…)."""


class NotYetLeft(ArrivalError):
    """The bus has not left its first stop yet: an arrival now is a slip of the thumb."""


class TooEarly(ArrivalError):
    """Less than half the planned driving time to the stop has passed since the bus left (a
    1,188-km leg "arrived" 22 minutes out): a tap on the wrong stop, not an arrival."""

    def __init__(self, eta: datetime) -> None:
        super().__init__(f"expected at {eta.isoformat()}")
        self.eta = eta


@dataclass
class StopArrival:
    """One drop-off stop: who gets off there and what the driver recorded."""

    stop: TripStop
    leaving: list[SeatAssignment]  # boarded passengers who get off here
    expected: list[SeatAssignment]  # everyone seated for this stop, boarded or not (no no-shows)

    @property
    def arrived(self) -> bool:
        return self.stop.arrived_at is not None

    @property
    def handed_over(self) -> int:
        return self.stop.handed_over or 0

    @property
    def short(self) -> bool:
        """Arrived, and fewer handed over than boarded for this stop."""
        return self.arrived and self.handed_over < len(self.leaving)


@dataclass
class BusArrival:
    stops: list[StopArrival]
    boarded: int
    handed_over: int

    @property
    def any_arrived(self) -> bool:
        return any(s.arrived for s in self.stops)

    @property
    def all_arrived(self) -> bool:
        return bool(self.stops) and all(s.arrived for s in self.stops)

    @property
    def missing(self) -> int:
        """Boarded workers not handed over at a stop already reached."""
        return sum(len(s.leaving) - s.handed_over for s in self.stops if s.short)


def dropoffs(trip: Trip) -> list[TripStop]:
    return [s for s in trip.stops if s.kind == "dropoff"]


def stop_of(trip: Trip, seat: SeatAssignment) -> TripStop | None:
    """The drop-off stop where this passenger gets off (the last one if the route skips theirs)."""
    stops = dropoffs(trip)
    mine = next((s for s in stops if s.site_id == seat.worker.destination_site_id), None)
    return mine or (stops[-1] if stops else None)


def bus_arrival(trip: Trip) -> BusArrival:
    """Per drop-off stop: who leaves, whether the bus arrived, how many were handed over."""
    lines = {stop.id: StopArrival(stop, [], []) for stop in dropoffs(trip)}
    for seat in trip.seats:
        stop = stop_of(trip, seat)
        if stop is None or seat.no_show_at is not None:
            continue
        lines[stop.id].expected.append(seat)
        if seat.boarded_at is not None:
            lines[stop.id].leaving.append(seat)
    boarded = sum(1 for seat in trip.seats if seat.boarded_at is not None)
    handed = sum(line.handed_over for line in lines.values())
    return BusArrival(list(lines.values()), boarded, handed)


def record_arrival(
    trip: Trip,
    stop_id: int,
    worker_ids: Collection[int],
    now: datetime,
    settings: Mapping[str, Any],
    user: User | None = None,
    source: str = "driver",
) -> StopArrival:
    """Confirm the bus at a drop-off stop, handing over ``worker_ids`` there (flushed).

    Each handed-over worker is marked arrived and gets one arrival SMS; a worker left out
    on a correction goes back to boarded. A passenger seated for the stop whom nobody marked
    boarded (the driver skipped check-in) may be handed over too: being handed over at the
    gate shows they were on the bus, so they are marked boarded as well."""
    stop = _dropoff(trip, stop_id)
    if now < trip.departure_at:
        raise NotYetLeft("the bus has not left yet")
    if stop.eta is not None and now < trip.departure_at + (stop.eta - trip.departure_at) / 2:
        raise TooEarly(stop.eta)
    line = next(s for s in bus_arrival(trip).stops if s.stop.id == stop.id)
    chosen = {seat.worker_id for seat in line.expected} & set(worker_ids)
    if set(worker_ids) - chosen:
        raise ArrivalError("a passenger who does not get off here (or was a no-show)")
    for seat in line.expected:
        if seat.worker_id in chosen and seat.boarded_at is None:
            manifests.set_mark(
                trip, seat.worker_id, manifests.ATTENDANCE, "boarded", now, user, source
            )
        _hand_over(seat, seat.worker_id in chosen, now)
    stop.arrived_at = stop.arrived_at or now
    before, stop.handed_over = stop.handed_over, len(chosen)
    db.session.flush()
    manifests.load_employers(line.expected)
    for seat in line.expected:
        if seat.worker_id in chosen:
            arrival_notice(trip, stop, seat.worker, now, settings)
    audit.record(
        user,
        "stop.arrived" if before is None else "stop.arrival_corrected",
        "trip",
        trip.id,
        {"stop": stop.site.name_zh, "handed_over": len(chosen), "by": source},
    )
    db.session.flush()
    return next(s for s in bus_arrival(trip).stops if s.stop.id == stop.id)


def _dropoff(trip: Trip, stop_id: int) -> TripStop:
    if not manifests.is_open(trip):
        raise ArrivalError("this trip is not running (cancelled or not published)")
    stop = next((s for s in dropoffs(trip) if s.id == stop_id), None)
    if stop is None:
        raise ArrivalError("not a drop-off stop of this bus")
    return stop


def _hand_over(seat: SeatAssignment, handed: bool, now: datetime) -> None:
    worker = seat.worker
    if handed:
        seat.arrived_at = seat.arrived_at or now
        if worker.status == BOARDED:
            worker.status = ARRIVED
    elif seat.arrived_at is not None:  # a correction: not handed over after all
        seat.arrived_at = None
        if worker.status == ARRIVED:
            worker.status = BOARDED


def arrival_notice(
    trip: Trip, stop: TripStop, worker: Worker, now: datetime, settings: Mapping[str, Any]
) -> bool:
    """Queue the worker's one arrival SMS: where they are and whom to turn to."""
    hotline = NoticeSettings.from_config(settings).hotline
    employer = worker.employer
    reachable = employer is not None and bool(employer.contact_phone)
    contact = (employer.contact_name or employer.name) if reachable else NO_CONTACT
    phone = employer.contact_phone if reachable else hotline
    place = employer.name if employer and employer.site_id == stop.site_id else stop.site.name_zh
    return single.queue_notice(
        templates.ARRIVAL,
        worker=worker,
        params={"place": place, "contact": contact, "phone": cn_phone(phone)},
        dedupe_key=f"arrival:{trip.id}:{worker.id}",
        now=now,
        settings=settings,
        trip_id=trip.id,
    )
