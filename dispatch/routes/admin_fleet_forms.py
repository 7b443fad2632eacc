"""The administration's fleet forms: each section's fields, list columns and labels (the
routes in admin_fleet.py render and save them through services/fleet.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from dispatch.models import DROPOFF, PICKUP


@dataclass(frozen=True)
class Input:
    """One form field: its key in services/fleet.py, label, input type and the choices of a select."""

    key: str
    label: Any
    type: str = "text"
    choices: str = ""  # name of a choices function below
    required: bool = False
    hint: Any = ""


@dataclass(frozen=True)
class Section:
    kind: str
    title: Any
    inputs: tuple[Input, ...]
    columns: tuple[tuple[Any, str], ...]  # label, attribute path shown in the list
    extra: dict = field(default_factory=dict)


SECTIONS = {
    "operators": Section(
        "operator",
        _l("Coach operators"),
        (
            Input("name", _l("Operator name"), required=True),
            Input("licence_no", _l("Operating licence number")),
            Input("contact_name", _l("Contact person")),
            Input("phone", _l("Contact phone"), "tel"),
        ),
        (
            (_l("Operator name"), "name"),
            (_l("Operating licence number"), "licence_no"),
            (_l("Contact person"), "contact_name"),
            (_l("Contact phone"), "phone"),
        ),
    ),
    "coaches": Section(
        "coach",
        _l("Coaches"),
        (
            Input("plate", _l("Plate"), required=True, hint=_l("e.g. 晋L·A1234")),
            Input("coach_type", _l("Coach type"), "select", "coach_types", True),
            Input("operator", _l("Operator"), "select", "operators"),
            Input("depot", _l("Home depot"), "select", "pickups"),
            Input("certificate_no", _l("Road transport certificate number")),
            Input("certificate_expires", _l("Certificate valid until"), "date"),
            Input("driver1_id", _l("Usual driver 1"), "select", "drivers"),
            Input("driver2_id", _l("Usual driver 2"), "select", "drivers"),
        ),
        (
            (_l("Plate"), "plate"),
            (_l("Coach type"), "coach_type.name"),
            (_l("Operator"), "operator"),
            (_l("Certificate valid until"), "certificate_expires"),
            (_l("Usual driver 1"), "driver1.name"),
            (_l("Usual driver 2"), "driver2.name"),
        ),
    ),
    "drivers": Section(
        "driver",
        _l("Drivers"),
        (
            Input("name", _l("Name"), required=True),
            Input("phone", _l("Mobile"), "tel", required=True),
            Input("operator", _l("Operator"), "select", "operators"),
            Input("licence_class", _l("Licence class"), hint=_l("e.g. A1")),
            Input("qualification_no", _l("Qualification certificate number")),
            Input("qualification_expires", _l("Qualification valid until"), "date"),
        ),
        (
            (_l("Name"), "name"),
            (_l("Mobile"), "phone"),
            (_l("Operator"), "operator"),
            (_l("Licence class"), "licence_class"),
            (_l("Qualification valid until"), "qualification_expires"),
        ),
    ),
    "coach-types": Section(
        "coach_type",
        _l("Coach types"),
        (
            Input("id", _l("Code"), required=True, hint=_l("e.g. c53")),
            Input("name", _l("Type name"), required=True),
            Input("rated_seats", _l("Rated seats"), "number", required=True),
            Input("crew_seats", _l("Crew seats"), "number", required=True),
            Input("fixed_cost", _l("Price per charter (CNY)"), "number", required=True),
            Input("cost_per_km", _l("Price per km of detour (CNY)"), "number", required=True),
        ),
        (
            (_l("Code"), "id"),
            (_l("Type name"), "name"),
            (_l("Rated seats"), "rated_seats"),
            (_l("Crew seats"), "crew_seats"),
            (_l("Price per charter (CNY)"), "fixed_cost"),
            (_l("Price per km of detour (CNY)"), "cost_per_km"),
        ),
    ),
    "employers": Section(
        "employer",
        _l("Employers"),
        (
            Input("name", _l("Employer name"), required=True),
            Input("destination", _l("Destination"), "select", "dropoffs", True),
            Input("address", _l("Address (gate)")),
            Input("contact_name", _l("Contact person at the gate")),
            Input("contact_phone", _l("Contact phone"), "tel"),
        ),
        (
            (_l("Employer name"), "name"),
            (_l("Destination"), "site.name_zh"),
            (_l("Address (gate)"), "address"),
            (_l("Contact person at the gate"), "contact_name"),
            (_l("Contact phone"), "contact_phone"),
        ),
    ),
    "sites": Section(
        "site",
        _l("Destinations and pickup points"),
        (
            Input("id", _l("Code"), required=True, hint=_l("e.g. js-kunshan")),
            Input("kind", _l("Kind"), "select", "site_kinds", True),
            Input(
                "county",
                _l("County"),
                "select",
                "counties",
                hint=_l("Pickup points: the county whose posters and registration page offer it."),
            ),
            Input("name", _l("Site name"), required=True),
            Input("address", _l("Address")),
            Input(
                "lat",
                _l("Latitude"),
                "decimal",
                required=True,
                hint=_l("decimal degrees, e.g. 31.38"),
            ),
            Input(
                "lon",
                _l("Longitude"),
                "decimal",
                required=True,
                hint=_l("decimal degrees, e.g. 120.98"),
            ),
            Input("handout_place", _l("Welfare-pack handout place")),
            Input("default_window", _l("Default handout window"), hint=_l("e.g. 06:30-07:30")),
        ),
        (
            (_l("Code"), "id"),
            (_l("Kind"), "kind_label"),
            (_l("Site name"), "name_zh"),
            (_l("Address"), "address"),
            (_l("Latitude"), "lat"),
            (_l("Longitude"), "lon"),
        ),
    ),
}
IMPORT_LABELS = {
    "plate": _l("Plate"),
    "coach_type": _l("Coach type"),
    "operator": _l("Operator"),
    "driver1": _l("Driver 1"),
    "driver2": _l("Driver 2"),
    "certificate_no": _l("Road transport certificate number"),
    "certificate_expires": _l("Certificate valid until"),
}
SITE_KINDS = {PICKUP: _l("Pickup point"), DROPOFF: _l("Destination")}
