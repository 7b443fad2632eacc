"""The audit trail."""

from __future__ import annotations

from typing import Any

from dispatch.extensions import db
from dispatch.models import AuditEvent, User


def record(
    user: User | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    remote_addr: str = "",
) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it)."""
    event = AuditEvent(
        user_id=user.id if user is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail or {},
        remote_addr=remote_addr or "",
    )
    db.session.add(event)
    return event
