"""A worker's e-ticket: a short signed text that the ticket page shows as a QR code and the
driver's page reads back. It names the worker, trip and seat, and is signed with the app's
key, so a screenshot works offline at the pickup point and a forged one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

PREFIX = "DT1."  # dispatch ticket, format 1: tells our codes from any other QR code
SALT = "dispatch.eticket"


@dataclass(frozen=True)
class TicketFacts:
    worker_id: int
    trip_id: int
    seat_no: int


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def ticket_text(worker_id: int, trip_id: int, seat_no: int, secret_key: str) -> str:
    """What the QR code carries."""
    return PREFIX + _serializer(secret_key).dumps([worker_id, trip_id, seat_no])


def read_ticket(text: str, secret_key: str) -> TicketFacts | None:
    """The facts of a ticket of ours with a good signature, else None."""
    if not text.startswith(PREFIX):
        return None
    try:
        worker_id, trip_id, seat_no = _serializer(secret_key).loads(text[len(PREFIX) :])
    except (BadSignature, ValueError, TypeError):
        return None
    if not all(isinstance(v, int) for v in (worker_id, trip_id, seat_no)):
        return None
    return TicketFacts(worker_id, trip_id, seat_no)
