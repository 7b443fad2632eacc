"""Counts for the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, exists, false, func, select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, SeatAssignment, Worker
from dispatch.models import messages as m
from dispatch.models.workers import ASSIGNED, BOARDED, CANCELLED, NO_SHOW, NOTIFIED
from dispatch.services.scope import in_scope

ARRIVED = "arrived"  # handed over to the employer at the drop-off stop: past boarding
AWAITING_REVIEW = "pending"  # registered by the worker, not yet accepted: not counted
SEATED = {ASSIGNED, NOTIFIED, BOARDED, NO_SHOW, ARRIVED}
# The notices that tell a worker their bus: the first one, or a change of bus after it.
BUS_NOTICES = ("departure", "change")
ACCEPTED = (m.MSG_SENT, m.MSG_DELIVERED)

# Each stage counts everyone who has reached it or gone past it. "notified" and
# "delivered" are read from the outbox, not from the worker's status: sending a notice
# does not change the status, and a worker who boarded was notified all the same.
STAGES = ("registered", "assigned", "notified", "delivered", "boarded", "arrived")


@dataclass
class FunnelRow:
    key: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))

    def add(self, status: str, notified: bool, delivered: bool, n: int) -> None:
        reached = {
            "registered": True,
            "assigned": status in SEATED,
            "notified": status in SEATED and notified,
            "delivered": status in SEATED and delivered,
            "boarded": status in (BOARDED, ARRIVED),
            "arrived": status == ARRIVED,  # handed over at the gate (services/arrival.py)
        }
        for stage, yes in reached.items():
            self.counts[stage] += n if yes else 0


def _bus_notice(statuses: tuple[str, ...]):
    """Whether a seated worker has a bus notice in one of ``statuses`` for a trip they sit on
    (asked only of seated workers: at 100,000 workers most are not, and the sub-query per
    worker was the dashboard's cost)."""
    om, sa = OutboundMessage, SeatAssignment
    own_trips = select(sa.trip_id).where(sa.worker_id == Worker.id)
    told = exists().where(
        om.worker_id == Worker.id,
        om.kind.in_(BUS_NOTICES),
        om.status.in_(statuses),
        om.trip_id.in_(own_trips),
    )
    return case((Worker.status.in_(sorted(SEATED)), told), else_=false())


@dataclass(frozen=True)
class Funnels:
    by_county: list[FunnelRow]
    by_destination: list[FunnelRow]
    total: FunnelRow


def funnels(county_ids: set[str] | None) -> Funnels:
    """Stage counts per county, per destination and in total, in one pass over the workers."""
    notified = _bus_notice(ACCEPTED).label("notified")
    delivered = _bus_notice((m.MSG_DELIVERED,)).label("delivered")
    keys = (Worker.county_id, Worker.destination_site_id, Worker.status)
    query = (
        select(*keys, notified, delivered, func.count())
        .where(Worker.status.not_in((CANCELLED, AWAITING_REVIEW)))
        .group_by(*keys, notified, delivered)
    )
    query = in_scope(query, Worker.county_id, county_ids)
    counties: dict[str, FunnelRow] = {}
    destinations: dict[str, FunnelRow] = {}
    total = FunnelRow("total")
    for county, destination, status, was_notified, was_delivered, n in db.session.execute(query):
        reached = (status, bool(was_notified), bool(was_delivered), n)
        counties.setdefault(county, FunnelRow(county)).add(*reached)
        destinations.setdefault(destination, FunnelRow(destination)).add(*reached)
        total.add(*reached)
    return Funnels(
        sorted(counties.values(), key=lambda r: r.key),
        sorted(destinations.values(), key=lambda r: r.key),
        total,
    )
