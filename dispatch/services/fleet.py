"""The bureau's fleet and places: operators, coaches, drivers, coach types, employers, sites.

Each kind is validated field by field (a message per field, in the user's language), saved
whole or not at all, deactivated rather than deleted while in use, and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from dispatch.extensions import db
from dispatch.models import (
    Coach,
    CoachType,
    County,
    Driver,
    Employer,
    Operator,
    Site,
    Trip,
    TripStop,
    User,
    Worker,
)
from dispatch.services import audit
from dispatch.services import fleet_fields as f
from dispatch.services.fleet_fields import canonical_plate  # noqa: F401  (part of this module's API)


class FleetError(ValueError):
    """Input that cannot be saved; ``fields`` maps each bad field to what is wrong with it."""

    def __init__(self, fields: dict[str, str], message: str = "") -> None:
        super().__init__(message or _("Some fields are not valid."))
        self.fields = fields


class Taken(FleetError):
    """A plate, name or id that another row has already (HTTP 409)."""


class InUse(ValueError):
    """Deleting would break what uses the row; ``str()`` says what, and deactivating is offered."""


@dataclass(frozen=True)
class Kind:
    """One administered kind: its model, its fields (key → parser) and what is unique."""

    name: str
    model: type
    fields: dict[str, Callable[[Any], Any]]
    unique: str


KINDS = {
    "operator": Kind(
        "operator",
        Operator,
        {
            "name": f.text(80, True),
            "licence_no": f.text(40),
            "contact_name": f.text(40),
            "phone": f.phone,
        },
        "name",
    ),
    "coach": Kind(
        "coach",
        Coach,
        {
            "plate": f.plate,
            "coach_type": f.coach_type,
            "operator": f.operator,
            "depot": f.depot,
            "certificate_no": f.text(40),
            "certificate_expires": f.expiry,
            "driver1_id": f.driver,
            "driver2_id": f.driver,
        },
        "plate",
    ),
    "driver": Kind(
        "driver",
        Driver,
        {
            "name": f.text(40, True),
            "phone": f.mobile,
            "operator": f.operator,
            "licence_class": f.text(10),
            "qualification_no": f.text(40),
            "qualification_expires": f.expiry,
        },
        "",
    ),
    "coach_type": Kind(
        "coach_type",
        CoachType,
        {
            "id": f.site_id,
            "name": f.text(60, True),
            "rated_seats": f.number(5, 80, True),
            "crew_seats": f.number(0, 5, True),
            "fixed_cost": f.number(0, 1_000_000),
            "cost_per_km": f.number(0, 1000),
        },
        "id",
    ),
    "employer": Kind(
        "employer",
        Employer,
        {
            "name": f.text(120, True),
            "destination": f.destination,
            "address": f.text(200),
            "contact_name": f.text(40),
            "contact_phone": f.phone,
        },
        "",
    ),
    "site": Kind(
        "site",
        Site,
        {
            "id": f.site_id,
            "kind": f.site_kind,
            "county": f.county,
            "name": f.text(80, True),
            "name_en": f.text(120),
            "address": f.text(200),
            "lat": f.lat,
            "lon": f.lon,
            "handout_place": f.text(200),
            "default_window": f.window,
        },
        "id",
    ),
}
ATTRIBUTES = {  # field key → model attribute, where they differ
    "coach_type": "coach_type",
    "operator": "operator_ref",
    "depot": "depot_site_id",
    "driver1_id": "driver1",
    "driver2_id": "driver2",
    "destination": "site",
    "name@site": "name_zh",
    "county@site": "county",
}


def parse(kind: Kind, data: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """The fields of ``data`` parsed; FleetError naming every bad field. ``partial``: only those given."""
    values, errors = {}, {}
    for key, parser in kind.fields.items():
        if partial and key not in data:
            continue
        try:
            values[key] = parser(data.get(key))
        except ValueError as error:
            errors[key] = str(error)
    if errors:
        raise FleetError(errors)
    return values


def save(
    kind_name: str, row: Any, data: dict[str, Any], user: User | None, partial: bool = False
) -> Any:
    """Create (``row`` None) or update a row from ``data``; audited; the caller commits."""
    kind = KINDS[kind_name]
    with db.session.no_autoflush:
        values = parse(
            kind, data, partial=partial or row is not None and not data.keys() >= kind.fields.keys()
        )
        creating = row is None
        row = row if row is not None else kind.model()
        _check(kind, row, values, creating)
        for key, value in values.items():
            _assign(kind, row, key, value)
        if kind.name == "site" and not row.name_en:
            row.name_en = (
                row.name_zh
            )  # English pages show the Chinese name until someone writes one
    db.session.add(row)
    db.session.flush()
    audit.record(
        user,
        f"{kind.name}.{'create' if creating else 'update'}",
        kind.name,
        row.id,
        {k: _plain(v) for k, v in values.items()},
    )
    return row


def _check(kind: Kind, row: Any, values: dict[str, Any], creating: bool) -> None:
    if not creating and kind.unique == "id" and "id" in values and values["id"] != row.id:
        raise FleetError({"id": _("The id cannot be changed; add a new one instead.")})
    if kind.unique and kind.unique in values:
        column = getattr(kind.model, kind.unique)
        other = db.session.scalar(select(kind.model).where(column == values[kind.unique]))
        if other is not None and other is not row:
            raise Taken({kind.unique: _("This is taken already.")}, _("This is taken already."))
    if kind.name == "driver" and values.get("phone"):
        # one phone, one driver: the crew lists show drivers by masked phone, and the fleet
        # import finds a coach's drivers by their phone
        other = db.session.scalar(select(Driver).where(Driver.phone == values["phone"]).limit(1))
        if other is not None and other is not row:
            message = _("This phone is driver %(name)s's already.", name=other.name)
            raise Taken({"phone": message}, message)
    if kind.name == "coach_type":
        rated = values.get("rated_seats", getattr(row, "rated_seats", None))
        if rated is not None and values.get("crew_seats", row.crew_seats or 0) >= rated:
            raise FleetError({"crew_seats": _("Crew seats must be fewer than the rated seats.")})
    drivers = values.get("driver1_id"), values.get("driver2_id")
    if kind.name == "coach" and drivers[0] is not None and drivers[0] is drivers[1]:
        raise FleetError({"driver2_id": _("The two drivers must be different people.")})


def _assign(kind: Kind, row: Any, key: str, value: Any) -> None:
    attribute = ATTRIBUTES.get(f"{key}@{kind.name}") or ATTRIBUTES.get(key, key)
    if key == "operator":
        row.operator = value.name if value else ""  # the old string column, kept in step
    if key == "depot":
        value = value.id if value else None
    setattr(row, attribute, value)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return getattr(value, "name", None) or str(getattr(value, "id", value))


def set_active(kind_name: str, row: Any, active: bool, user: User | None) -> None:
    """Deactivate (kept for history, offered no more) or reactivate a row; audited."""
    row.active = active
    audit.record(user, f"{kind_name}.{'activate' if active else 'deactivate'}", kind_name, row.id)


def delete(kind_name: str, row: Any, user: User | None) -> None:
    """Delete a row nothing uses; InUse says what uses it otherwise."""
    reason = in_use(kind_name, row)
    if reason:
        raise InUse(reason)
    audit.record(user, f"{kind_name}.delete", kind_name, row.id)
    db.session.delete(row)
    db.session.flush()


def in_use(kind_name: str, row: Any) -> str | None:
    """Why the row cannot be deleted, or None."""
    return USES[kind_name](row)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _coach_uses(coach: Coach) -> str | None:
    bus = db.session.scalar(select(Trip.code).where(Trip.coach_id == coach.id).limit(1))
    return (
        _("Coach %(plate)s runs bus %(bus)s: deactivate it instead.", plate=coach.plate, bus=bus)
        if bus
        else None
    )


def _driver_uses(driver: Driver) -> str | None:
    bus = db.session.scalar(
        select(Trip.code)
        .where(or_(Trip.driver1_id == driver.id, Trip.driver2_id == driver.id))
        .limit(1)
    )
    if bus:
        return _(
            "%(name)s drives bus %(bus)s: deactivate the driver instead.", name=driver.name, bus=bus
        )
    plate = db.session.scalar(
        select(Coach.plate)
        .where(or_(Coach.driver1_id == driver.id, Coach.driver2_id == driver.id))
        .limit(1)
    )
    return (
        _(
            "%(name)s is a usual driver of coach %(plate)s: change the coach first.",
            name=driver.name,
            plate=plate,
        )
        if plate
        else None
    )


def _operator_uses(operator: Operator) -> str | None:
    n = _count(select(Coach.id).where(Coach.operator_id == operator.id))
    n += _count(select(Driver.id).where(Driver.operator_id == operator.id))
    return (
        _("%(n)d coaches and drivers belong to this operator: deactivate it instead.", n=n)
        if n
        else None
    )


def _type_uses(coach_type: CoachType) -> str | None:
    n = _count(select(Coach.id).where(Coach.coach_type_id == coach_type.id))
    n += _count(select(Trip.id).where(Trip.coach_type_id == coach_type.id))
    return _("%(n)d coaches and buses are of this type: deactivate it instead.", n=n) if n else None


def _employer_uses(employer: Employer) -> str | None:
    n = _count(select(Worker.id).where(Worker.employer_id == employer.id))
    return _("%(n)d workers are going to this employer: deactivate it instead.", n=n) if n else None


def _site_uses(site: Site) -> str | None:
    workers = _count(
        select(Worker.id).where(
            or_(
                Worker.pickup_site_id == site.id,
                Worker.destination_site_id == site.id,
                Worker.county_id == site.id,
            )
        )
    )
    if workers:
        return _("%(n)d workers board or get off here: deactivate the site instead.", n=workers)
    others = _count(select(TripStop.id).where(TripStop.site_id == site.id))
    others += _count(select(Employer.id).where(Employer.site_id == site.id))
    others += _count(select(Coach.id).where(Coach.depot_site_id == site.id))
    others += _count(
        select(County.id).where(or_(County.default_pickup_id == site.id, County.id == site.id))
    )
    return (
        _("Buses, employers, coaches or a county use this site: deactivate it instead.")
        if others
        else None
    )


USES: dict[str, Callable[[Any], str | None]] = {
    "operator": _operator_uses,
    "coach": _coach_uses,
    "driver": _driver_uses,
    "coach_type": _type_uses,
    "employer": _employer_uses,
    "site": _site_uses,
}


def search(kind_name: str, q: str = "", include_inactive: bool = True) -> list[Any]:
    """Rows of a kind whose name (or plate, phone, id) contains ``q``, active first."""
    model = KINDS[kind_name].model
    query = select(model).order_by(model.active.desc(), *SORT[kind_name](model))
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(*(getattr(model, c).ilike(like) for c in SEARCHED[kind_name])))
    if not include_inactive:
        query = query.where(model.active.is_(True))
    return list(db.session.scalars(query.limit(500)))


SEARCHED = {
    "operator": ("name", "licence_no", "contact_name"),
    "coach": ("plate", "operator", "certificate_no"),
    "driver": ("name", "phone", "operator"),
    "coach_type": ("id", "name"),
    "employer": ("name", "address", "contact_name"),
    "site": ("id", "name_zh", "name_en", "address"),
}
SORT = {
    "operator": lambda m: (m.name,),
    "coach": lambda m: (m.plate,),
    "driver": lambda m: (m.name, m.id),
    "coach_type": lambda m: (m.rated_seats,),
    "employer": lambda m: (m.name,),
    "site": lambda m: (m.kind, m.id),
}
