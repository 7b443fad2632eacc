"""The step before a request that changed published trips commits; any view module may use it."""

from __future__ import annotations

from flask import current_app

from dispatch.models import utcnow
from dispatch.services.notices.notices import schedule_pending_changes


def announce_changes() -> None:
    """Queue the notices of the changes this request made to published trips."""
    schedule_pending_changes(utcnow(), current_app.config)
