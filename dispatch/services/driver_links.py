"""Signed manifest links for drivers (CONTRACTS.md §5: ``GET /m/<token>``), without accounts.

A token is ``<trip id>.<trip.manifest_key>.<signature>``: an HMAC-SHA256 of the first two
under the app's SECRET_KEY and a salt of its own (so a token minted for any other purpose, a
session cookie or a CSRF token, never opens a manifest), cut to 96 bits and written in
base64url. It is 36 characters for a trip id of six digits, where itsdangerous' JSON and
SHA-1 signature took 57: in a driver's two-segment SMS those 21 characters are the plate and
the place to start from, which a longer link pushed out ("从尧都…发车，晋…"). Links written
before, ``[trip id, key]`` signed by itsdangerous, still open. Three checks, in order:

- the signature: a tampered or made-up token is 404 (nothing says it was almost right);
- the key: the token's key must equal the trip's current ``manifest_key``, so a
  coordinator rotating the key revokes every link given out so far (also 404);
- the date: a link opens until the end of the day after the trip, local time; later it
  is 410 Gone (the driver sees that the link has expired rather than "not found").

The expiry is computed from the trip's date at each request rather than carried in the
token: moving the trip's date moves the expiry with it, and the token stays short enough
for an SMS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer

from dispatch.extensions import db
from dispatch.models import Trip, User
from dispatch.services import audit

SALT = "dispatch.driver-manifest"
SIGNATURE_BYTES = 12


class LinkNotFound(Exception):
    """Tampered, unknown or revoked (rotated) link."""


class LinkExpired(Exception):
    """A genuine link whose validity (the day after the trip) has passed."""


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def new_key() -> str:
    return secrets.token_urlsafe(9)


def token_for(trip: Trip, secret_key: str) -> str:
    """The token of the trip's current link (reading only: a trip without a key has no link)."""
    if not trip.manifest_key:
        raise LinkNotFound("this trip has no driver link yet: make one")
    return f"{trip.id}.{trip.manifest_key}.{_signature(trip.id, trip.manifest_key, secret_key)}"


def _signature(trip_id: int, key: str, secret_key: str) -> str:
    """The token's signature: 96 bits of HMAC-SHA256 over the salt, the trip and its key."""
    message = f"{SALT}|{trip_id}.{key}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _read(token: str, secret_key: str) -> tuple[object, object]:
    """The (trip id, key) a genuine token carries, in either form; BadSignature otherwise."""
    parts = token.split(".")
    if len(parts) != 3:  # a link written before this form: itsdangerous' payload.signature
        trip_id, key = _serializer(secret_key).loads(token)
        return trip_id, key
    number, key, signature = parts
    if not number.isdigit() or len(number) > 12:
        raise BadSignature("not a trip")
    if not hmac.compare_digest(signature, _signature(int(number), key, secret_key)):
        raise BadSignature("signature does not match")
    return int(number), key


def link_for(trip: Trip, secret_key: str, public_base_url: str) -> str:
    """The full address a driver opens: PUBLIC_BASE_URL/m/<token>."""
    return f"{public_base_url.rstrip('/')}/m/{token_for(trip, secret_key)}"


def valid_until(trip_date: date, tz: str) -> datetime:
    """The end of the day after the trip, local time (aware)."""
    return datetime.combine(trip_date + timedelta(days=2), time(0, 0), tzinfo=ZoneInfo(tz))


def trip_for_token(token: str, secret_key: str, now: datetime, tz: str) -> Trip:
    """The trip a token opens; LinkNotFound or LinkExpired otherwise."""
    try:
        trip_id, key = _read(token, secret_key)
    except (BadSignature, ValueError, TypeError):
        raise LinkNotFound() from None
    trip = db.session.get(Trip, trip_id) if isinstance(trip_id, int) else None
    if (
        trip is None
        or not trip.manifest_key
        or not secrets.compare_digest(str(key), trip.manifest_key)
    ):
        raise LinkNotFound()
    if trip.plan.status != "published":
        raise LinkNotFound()
    if now >= valid_until(trip.date, tz):
        raise LinkExpired()
    return trip


def rotate(trip: Trip, user: User | None) -> None:
    """Give the trip a new key: every earlier link stops working (flushed, not committed)."""
    trip.manifest_key = new_key()
    db.session.flush()
    audit.record(user, "trip.driver_link_rotated", "trip", trip.id)
