"""One notice to one person, outside a plan's publishing: a registration's outcome, the
"on the list" notice, arrival at the gate, a verification code.

Like every notice it is written to the outbox (exactly once per ``dedupe_key``) and the
tick sends it; a verification code is the exception (``verification_row``): the request
that writes it sends it at once (dispatch.notify.immediate), since only its hash is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, Worker
from dispatch.models import messages as m
from dispatch.notify.writer import Draft, insert_drafts
from dispatch.services.notices import templates
from dispatch.services.notices.journeys import NoticeSettings

Settings = Mapping[str, Any] | NoticeSettings


def queue_notice(
    kind: str,
    *,
    worker: Worker,
    params: Mapping[str, object],
    dedupe_key: str,
    now: datetime,
    settings: Settings,
    trip_id: int | None = None,
    urgent: bool = False,
    expires_at: datetime | None = None,
) -> bool:
    """Write ``kind`` for ``worker`` into the outbox, due now; False if that key exists.

    A worker who cannot receive SMS still gets the row; the tick screens it and marks it
    ``suppressed`` (as for every notice), and the pages show whom to phone. Flushes; the
    caller commits.
    """
    s = NoticeSettings.from_config(settings)
    values = templates.fit_params(kind, params)
    draft = Draft(
        dedupe_key=dedupe_key,
        kind=kind,
        version=1,
        worker_id=worker.id,
        driver_id=None,
        trip_id=trip_id,
        to_phone=worker.phone,
        body=templates.render(kind, values, s.signature),
        urgent=urgent,
        due_at=now,
        expires_at=expires_at,
        params=values,
    )
    return insert_drafts([draft]) == 1


def verification_row(
    phone: str, code: str, *, dedupe_key: str, now: datetime, settings: Settings
) -> tuple[OutboundMessage, str, dict[str, str]]:
    """Write the verification SMS already claimed (``sending``), its code masked; return the
    row and the real body and params for dispatch.notify.immediate.send_now. Flushes."""
    s = NoticeSettings.from_config(settings)
    real = {"code": code}
    masked = {"code": templates.MASK}
    draft = Draft(
        dedupe_key=dedupe_key,
        kind=templates.VERIFICATION,
        version=1,
        worker_id=None,
        driver_id=None,
        trip_id=None,
        to_phone=phone,
        body=templates.render(templates.VERIFICATION, masked, s.signature),
        urgent=True,
        due_at=now,
        expires_at=now + timedelta(minutes=5),
        status=m.MSG_SENDING,
        params=masked,
    )
    insert_drafts([draft])
    row = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key)
    ).one()
    row.claimed_at, row.claimed_by, row.attempts = now, "web", 1
    return row, templates.render(templates.VERIFICATION, real, s.signature), real
