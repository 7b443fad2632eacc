"""The reference lists pages offer: counties, sites, employers, and the fleet's active rows."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import CoachType, County, Driver, Employer, Operator, Site
from dispatch.services.scope import in_scope


def counties(scope: Collection[str] | None = None) -> list[County]:
    """The counties of ``scope`` (None: all) by id."""
    return list(db.session.scalars(in_scope(select(County), County.id, scope).order_by(County.id)))


def counties_by_region() -> list[County]:
    """Every county, grouped by its region (the users page's checkboxes)."""
    return list(db.session.scalars(select(County).order_by(County.region_code, County.id)))


def sites(kind: str | None = None) -> list[Site]:
    """Pickup points and destinations (or those of one ``kind``) by id, deactivated ones too."""
    query = select(Site) if kind is None else select(Site).where(Site.kind == kind)
    return list(db.session.scalars(query.order_by(Site.id)))


def employers() -> list[Employer]:
    """Every employer, by destination and name."""
    return list(db.session.scalars(select(Employer).order_by(Employer.site_id, Employer.name)))


def places() -> dict[str, County | Site]:
    """Counties and sites by id (ids never clash: both are the reference data's place ids)."""
    return {p.id: p for p in [*counties(), *sites()]}


def active_coach_types() -> list[CoachType]:
    return list(
        db.session.scalars(
            select(CoachType).where(CoachType.active).order_by(CoachType.rated_seats)
        )
    )


def active_operators() -> list[Operator]:
    return list(db.session.scalars(select(Operator).where(Operator.active).order_by(Operator.name)))


def active_drivers() -> list[Driver]:
    return list(db.session.scalars(select(Driver).where(Driver.active).order_by(Driver.name)))


def active_sites(kind: str) -> list[Site]:
    return list(
        db.session.scalars(select(Site).where(Site.kind == kind, Site.active).order_by(Site.id))
    )


def coach_type_names() -> dict[str, str]:
    """Coach type names by id."""
    return dict(db.session.execute(select(CoachType.id, CoachType.name)).all())
