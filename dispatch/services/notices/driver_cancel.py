"""The driver's notice that a trip will not run.

A published bus is cancelled when a top-up that may move seated workers moves every passenger
off it (services/topup_publish.py). Its drivers were told to drive it, so each driver who was
sent the driver notice gets ``driver_cancel`` (date, time, first stop, plate, the dispatch
number); a driver notice not yet sent is withdrawn instead, and a driver never told hears
nothing. One row per driver and trip (``driver_cancel:d<driver>:t<trip>``), so scheduling twice
writes nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from dispatch.extensions import db
from dispatch.models import Driver, OutboundMessage, Trip
from dispatch.models import messages as m
from dispatch.notify.writer import insert_drafts
from dispatch.services.notices import texts
from dispatch.services.notices.journeys import (
    NoticeSettings,
    driver_draft,
    first_place,
    plate_of,
)
from dispatch.services.notices.templates import DRIVER, DRIVER_CANCEL

Settings = Mapping[str, Any] | NoticeSettings
TOLD = (m.MSG_SENDING, m.MSG_SENT, m.MSG_DELIVERED, m.MSG_UNKNOWN)  # may have reached the phone


def schedule_driver_cancellation(trip: Trip, now: datetime, settings: Settings) -> int:
    """Tell the drivers who were told of a cancelled trip that it will not run; rows created.

    Flushes; the caller commits."""
    if trip.cancelled_at is None or trip.departure_at <= now:
        return 0
    om = OutboundMessage
    told = db.session.scalars(
        select(om.driver_id)
        .where(om.trip_id == trip.id, om.kind == DRIVER, om.status.in_(TOLD))
        .distinct()
    ).all()
    db.session.execute(
        update(om)
        .where(om.trip_id == trip.id, om.kind == DRIVER, om.status == m.MSG_PENDING)
        .values(status=m.MSG_CANCELLED, error_message="trip cancelled"),
        execution_options={"synchronize_session": False},
    )
    drivers = db.session.scalars(select(Driver).where(Driver.id.in_(told))).all() if told else []
    if not drivers:
        return 0
    s = NoticeSettings.from_config(settings)
    local = s.local(trip.departure_at)
    notice = texts.driver_cancel(
        s.signature,
        day=local.date(),
        at=local.time(),
        first=first_place(trip),
        plate=plate_of(trip) or f"{trip.code}次车",  # no coach was set: the bus by its number
        phone=s.hotline,
    )
    return insert_drafts(
        [
            driver_draft(driver, trip, notice, f"{DRIVER_CANCEL}:d{driver.id}:t{trip.id}", now, s)
            for driver in sorted(drivers, key=lambda d: d.id)
        ]
    )
