"""The hand-over list (交接单): one A4 page per drop-off stop, signed by the employer's contact.

It lists, per receiving employer, the workers handed over at that stop with their ID numbers
masked (as on the manifest), the count, and signature lines. Before the bus arrives it lists
those who boarded for the stop (or, before boarding, everyone seated for it), so a bureau can
print it ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dispatch.identity import mask_id_number
from dispatch.models import Employer, SeatAssignment, Trip, TripStop
from dispatch.services.arrival import StopArrival, bus_arrival
from dispatch.services.manifest import load_employers


@dataclass(frozen=True)
class HandoverLine:
    seat_no: int
    name: str
    id_masked: str
    sex: str


@dataclass
class EmployerGroup:
    employer: Employer | None  # None: the worker named no employer here
    lines: list[HandoverLine] = field(default_factory=list)


@dataclass
class HandoverSheet:
    stop: TripStop
    arrived: bool
    groups: list[EmployerGroup]
    boarded: int  # boarded for this stop

    @property
    def count(self) -> int:
        return sum(len(g.lines) for g in self.groups)


def sheets(trip: Trip, stop_id: int | None = None) -> list[HandoverSheet]:
    """The sheets of the bus's drop-off stops (or of one), in route order."""
    load_employers(trip.seats)
    return [
        _sheet(line)
        for line in bus_arrival(trip).stops
        if stop_id is None or line.stop.id == stop_id
    ]


def _sheet(line: StopArrival) -> HandoverSheet:
    if line.arrived:
        seats = [s for s in line.leaving if s.arrived_at is not None]
    else:
        seats = line.leaving or line.expected
    groups: dict[int | None, EmployerGroup] = {}
    for seat in sorted(seats, key=_order):
        employer = seat.worker.employer
        key = employer.id if employer is not None else None
        group = groups.setdefault(key, EmployerGroup(employer))
        group.lines.append(_line(seat))
    ordered = sorted(groups.values(), key=lambda g: (g.employer is None, _name(g)))
    return HandoverSheet(line.stop, line.arrived, ordered, len(line.leaving))


def _order(seat: SeatAssignment) -> tuple[str, int]:
    employer = seat.worker.employer
    return (employer.name if employer else "", seat.seat_no)


def _name(group: EmployerGroup) -> str:
    return group.employer.name if group.employer else ""


def _line(seat: SeatAssignment) -> HandoverLine:
    worker = seat.worker
    return HandoverLine(seat.seat_no, worker.name, mask_id_number(worker.id_number), worker.sex)
