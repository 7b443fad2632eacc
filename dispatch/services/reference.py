"""Reference data a deployment starts with: pickup points, destination sites and coach types.

No coaches, drivers, employers or workers: a bureau adds its own in the administration pages.
Loading twice changes nothing; rows an admin edited keep the admin's values.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dispatch.extensions import db
from dispatch.models import CoachType, County, Site

DATA = Path(__file__).resolve().parent.parent / "data"
COACH_TYPES = (  # id, name, rated seats, crew seats, price CNY (estimates, DOMAIN.md)
    ("c33", "33座中型客车", 33, 2, 9000.0),
    ("c45", "45座大型客车", 45, 2, 11000.0),
    ("c53", "53座大型客车", 53, 2, 12500.0),
)


@dataclass(frozen=True)
class ReferenceReport:
    sites_added: int
    counties_added: int
    coach_types_added: int


def load_reference() -> ReferenceReport:
    """Add the bundled sites, counties and coach types that are missing; keep existing rows."""
    sites = _load_sites()
    db.session.flush()
    counties = _load_counties()
    coach_types = _load_coach_types()
    db.session.flush()
    return ReferenceReport(sites, counties, coach_types)


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _load_sites() -> int:
    added = 0
    for row in _rows("sites.csv"):
        if db.session.get(Site, row["id"]) is not None:
            continue
        db.session.add(
            Site(
                id=row["id"],
                kind=row["kind"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                province=row["province"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
            )
        )
        added += 1
    return added


def _load_counties() -> int:
    added = 0
    for row in _rows("counties.csv"):
        if db.session.get(County, row["id"]) is not None:
            continue
        site = db.session.get(Site, row["id"])
        db.session.add(
            County(
                id=row["id"],
                name_zh=site.name_zh,
                name_en=site.name_en,
                region_code=row["region_code"],
            )
        )
        db.session.flush()
        site.county_id = row["id"]
        site.address = site.address or row["assembly_point"]
        site.handout_place = site.handout_place or row["assembly_point"]
        db.session.get(County, row["id"]).default_pickup_id = site.id
        added += 1
    return added


def _load_coach_types() -> int:
    added = 0
    for type_id, name, rated, crew, price in COACH_TYPES:
        if db.session.get(CoachType, type_id) is not None:
            continue
        db.session.add(
            CoachType(
                id=type_id,
                name=name,
                rated_seats=rated,
                crew_seats=crew,
                fixed_cost=price,
                cost_per_km=3.0,
            )
        )
        added += 1
    return added
