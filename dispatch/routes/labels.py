"""Words the pages show for codes shared by several blueprints: notice kinds, refused marks.

Not a blueprint: any module under dispatch/routes/ may import it."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dispatch.models import Trip
from dispatch.notify import carrier_limits, outbox
from dispatch.services import manifest as manifests
from dispatch.services.notices import notices, templates

KIND_LABELS = {
    notices.DEPARTURE: _l("Departure notice"),
    notices.REMINDER: _l("Day-before reminder"),
    notices.WELFARE: _l("Welfare pack reminder"),
    notices.CHANGE: _l("Change notice"),
    notices.CANCELLATION: _l("Cancellation notice"),
    notices.DRIVER: _l("Driver notice"),
    notices.WAITING: _l("On the list, bus to follow"),
    templates.VERIFICATION: _l("Verification code"),
    templates.REGISTRATION: _l("Registration result"),
    templates.ARRIVAL: _l("Arrival notice"),
    templates.DRIVER_CANCEL: _l("Trip cancelled (driver)"),
}


# Why the outbox holds a pending row back (notify/outbox.py, notify/carrier_limits.py).
HOLD_LABELS = {
    outbox.HELD_TEMPLATE: _l(
        "Held: no approved SMS template for this kind of notice yet; it goes out once one is set"
    ),
    "template": _l("Not sent: no approved SMS template for this kind of notice"),
    carrier_limits.RATE: _l(
        "Held: the SMS provider's limit per number (e.g. one a minute) is reached; it goes shortly"
    ),
}


def mark_refusal(error: manifests.MarkError, trip: Trip) -> str:
    """What a refused mark tells the person who made it."""
    if isinstance(error, manifests.MarkTooEarly):
        return _(
            "Check-in and pack marks open on %(day)s, the day before departure.",
            day=manifests.marks_open_on(trip).isoformat(),
        )
    if isinstance(error, manifests.UndoTooLate):
        return _(
            "Too late to undo: a pack can be taken back within %(n)d minutes of handing it out.",
            n=manifests.PACK_UNDO.seconds // 60,
        )
    return _(
        "This passenger is no longer on this bus, or the trip is not running: reload the list."
    )
