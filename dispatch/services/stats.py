"""Counts for the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import Worker
from dispatch.models.workers import ASSIGNED, BOARDED, CANCELLED, NO_SHOW, NOTIFIED

# Each stage counts everyone who has reached it or gone past it.
STAGES = {
    "registered": None,
    "assigned": {ASSIGNED, NOTIFIED, BOARDED, NO_SHOW},
    "notified": {NOTIFIED, BOARDED, NO_SHOW},
    "boarded": {BOARDED},
}


@dataclass
class FunnelRow:
    key: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))

    def add(self, status: str, n: int) -> None:
        for stage, statuses in STAGES.items():
            if statuses is None or status in statuses:
                self.counts[stage] += n


def funnel_by(column_name: str, county_ids: set[str] | None) -> tuple[list[FunnelRow], FunnelRow]:
    """Stage counts per value of ``county_id`` or ``destination_site_id``, and the total."""
    column = getattr(Worker, column_name)
    query = (
        select(column, Worker.status, func.count())
        .where(Worker.status != CANCELLED)
        .group_by(column, Worker.status)
    )
    if county_ids is not None:
        query = query.where(Worker.county_id.in_(county_ids))
    rows: dict[str, FunnelRow] = {}
    total = FunnelRow("total")
    for key, status, n in db.session.execute(query):
        rows.setdefault(key, FunnelRow(key)).add(status, n)
        total.add(status, n)
    return sorted(rows.values(), key=lambda r: r.key), total
