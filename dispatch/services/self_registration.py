"""Workers registering themselves on /join (a coordinator's review: registration_review.py).

A self-registration is checked by the very rules of a coordinator's form (workers.validate),
plus what only a worker's own form needs: agreement to the privacy notice and SMS, a date not
in the past, and the SMS code that proves the mobile. It is stored as ``pending`` and the
planner never sees it until a coordinator of its county accepts it.

An ID number that is registered already gets exactly the answer of a new registration (the
same page, no SMS to anyone): anything else would tell a stranger who typed someone's ID
number that this person travels with the programme, and an SMS to the registered number
would let anyone with a list of ID numbers send texts to those people. The attempt is
written to the audit log against the registered worker, so the bureau can follow it up;
the confirmation page tells a worker already registered by the bureau to phone the hotline.
The same holds for an ID number whose earlier self-registration is pending or was declined:
only the bureau (by phone, on the worker's page) can reopen it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.extensions import db
from dispatch.models import County, Employer, Site, User, Worker
from dispatch.models.selfservice import PURPOSE_JOIN
from dispatch.models.workers import PENDING, SOURCE_SELF
from dispatch.notify.gateway import SmsGateway
from dispatch.services import audit, verification
from dispatch.services import workers as worker_service
from dispatch.services.place_names import name_key
from dispatch.services.scope import in_scope
from dispatch.services.worker_fields import (
    FIELDS,
    Cleaned,
    Lookups,
    clean_mobile,
    text,
    without_controls,
)

PRIVACY_NOTICE_VERSION = "2026-12"  # recorded with each registration: what the worker agreed to
# The coordinator's fields but the two the form sets itself, and an employer typed by hand.
FORM_FIELDS = (*(f for f in FIELDS if f not in ("sms_consent", "notes")), "employer_text")


@dataclass
class Submission:
    """What /join sent: the form fields, the code, and whether the notice was agreed to."""

    fields: Mapping[str, str]
    code: str
    consent: bool
    client_ip: str = ""


@dataclass
class Outcome:
    """``errors`` by field (nothing stored), else the registration was taken (or neutrally
    answered, for an ID number registered already: ``worker`` is then None)."""

    errors: dict[str, str] = field(default_factory=dict)
    worker: Worker | None = None


def register(sub: Submission, now: datetime, config: Mapping[str, Any]) -> Outcome:
    """Check and store a self-registration as pending; commits (the code check does too)."""
    lookups = Lookups.load()
    cleaned = worker_service.validate(_worker_fields(sub.fields, lookups), lookups)
    errors = dict(cleaned.errors)
    _check_own_rules(sub, cleaned, now, config, errors)
    if errors:
        return Outcome(errors)
    phone = cleaned.values["phone"]
    if not verification.check_code(phone, PURPOSE_JOIN, sub.code, now, config):
        return Outcome(
            {"code": _("The code is wrong or has expired: type it again or get a new one.")}
        )
    return _store(cleaned, sub, now)


def _worker_fields(raw: Mapping[str, str], lookups: Lookups) -> dict[str, Any]:
    """The form's fields as a coordinator's form sends them; an employer typed by hand that
    matches none of the destination's is kept in the notes for the coordinator."""
    fields = {k: text(raw.get(k)) for k in FORM_FIELDS}
    typed = without_controls(fields.pop("employer_text"))
    fields["sms_consent"] = "是"
    fields["notes"] = ""
    if typed and not fields["employer"]:
        destination = lookups.destination(fields["destination"])
        known = destination and lookups.employers.get((destination.id, name_key(typed)))
        if known:
            fields["employer"] = str(known.id)
        else:
            fields["notes"] = _("Employer as the worker wrote it: %(name)s", name=typed[:120])
    return fields


def _check_own_rules(
    sub: Submission, cleaned: Cleaned, now: datetime, config: Mapping[str, Any], errors: dict
) -> None:
    if not sub.consent:
        errors["privacy_consent"] = _("Please read the notice and tick the box to agree.")
    today = now.astimezone(ZoneInfo(config["TIMEZONE"])).date()
    earliest: date | None = cleaned.values.get("earliest_date")
    if earliest is not None and earliest < today and "earliest_date" not in errors:
        errors["earliest_date"] = _("The earliest date cannot be before today.")
    if not sub.code.strip():
        errors["code"] = _("Type the 6-digit code from the SMS.")


def _store(cleaned: Cleaned, sub: Submission, now: datetime) -> Outcome:
    existing = _registered(cleaned.values["id_number"])
    if existing is not None:
        return _neutral(existing)
    worker = Worker(**cleaned.values, status=PENDING, source=SOURCE_SELF, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(worker)
            db.session.flush()
    except IntegrityError:  # the same ID number sent twice at once: the second is a duplicate
        existing = _registered(cleaned.values["id_number"])
        return _neutral(existing) if existing else Outcome({})
    audit.record(
        None,
        "worker.self_register",
        "worker",
        worker.id,
        {"name": worker.name, "privacy_notice": PRIVACY_NOTICE_VERSION, "sms_consent": True},
        remote_addr=sub.client_ip,
    )
    db.session.commit()
    return Outcome(worker=worker)


def _registered(id_number: str) -> Worker | None:
    return db.session.scalar(select(Worker).where(Worker.id_number == id_number))


def _neutral(existing: Worker) -> Outcome:
    """The answer of a success; the attempt goes to the audit log only (see the module doc)."""
    audit.record(None, "worker.self_register_duplicate", "worker", existing.id, {})
    db.session.commit()
    return Outcome()


class BadPhone(ValueError):
    """Not a mainland mobile number; ``str()`` says so in the user's language."""


def send_code(
    phone: str, client_ip: str, now: datetime, config: Mapping[str, Any], gateway: SmsGateway
) -> None:
    """Send a /join code to ``phone``. The answer is the same for every number, registered or
    not; raises BadPhone for a number that is no mobile, verification.TooMany over a limit."""
    cleaned = clean_mobile(phone)
    if cleaned.errors:
        raise BadPhone(cleaned.errors["phone"])
    verification.request_code(
        cleaned.values["phone"], PURPOSE_JOIN, client_ip, now, config, gateway
    )


# --- What the form offers -------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """A poster's county and pickup point (``?county=…&pickup=…``), when they name real ones."""

    county: County | None = None
    pickup: Site | None = None

    def query(self) -> dict[str, str]:
        found = {"county": self.county.id if self.county else ""}
        found["pickup"] = self.pickup.id if self.pickup else ""
        return {k: v for k, v in found.items() if v}


@dataclass(frozen=True)
class FormChoices:
    """The lists /join offers: the 17 counties, active pickup points, destinations, employers."""

    counties: list[County]
    pickups: list[Site]
    destinations: list[Site]
    employers: list[Employer]


def form_choices() -> FormChoices:
    sites = db.session.scalars(select(Site).where(Site.active).order_by(Site.id)).all()
    employers = db.session.scalars(
        select(Employer).where(Employer.active).order_by(Employer.site_id, Employer.name)
    ).all()
    return FormChoices(
        counties=list(db.session.scalars(select(County).order_by(County.region_code, County.id))),
        pickups=[s for s in sites if s.kind == "pickup"],
        destinations=[s for s in sites if s.kind == "dropoff"],
        employers=list(employers),
    )


def preset(county: str | None, pickup: str | None) -> Preset:
    """The poster's preset; an unknown id is dropped (a QR code never carries arbitrary text)."""
    site = db.session.get(Site, pickup) if pickup and len(pickup) <= 40 else None
    site = site if site is not None and site.kind == "pickup" and site.active else None
    chosen = db.session.get(County, county) if county and len(county) <= 40 else None
    if chosen is None and site is not None and site.county_id:
        chosen = db.session.get(County, site.county_id)
    if site is not None and chosen is not None and site.county_id not in (None, chosen.id):
        site = None
    return Preset(chosen, site)


def poster_places(user: User) -> list[tuple[County, list[Site]]]:
    """The user's counties, each with its active pickup points (a poster for each)."""
    counties = db.session.scalars(
        in_scope(select(County), County.id, user.county_ids()).order_by(County.region_code)
    ).all()
    sites = db.session.scalars(
        select(Site).where(Site.kind == "pickup", Site.active).order_by(Site.id)
    ).all()
    return [(c, [s for s in sites if s.county_id == c.id]) for c in counties]
