"""The admin's fleet and places pages: operators, coaches, drivers, coach types, employers, sites."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.ids import parse_id
from dispatch.models import DROPOFF, PICKUP, CoachType, Site
from dispatch.routes.access import admins_only
from dispatch.services import choices, fleet, fleet_import
from dispatch.services.worker_sheets import ImportFileError

bp = Blueprint("admin_fleet", __name__, url_prefix="/admin/fleet")


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


admins_only(bp)


@bp.app_context_processor
def _helpers() -> dict:
    return {
        "fleet_sections": SECTIONS,
        "fleet_cell": _cell,
        "fleet_choices": _choices,
        "import_labels": IMPORT_LABELS,
    }


def _cell(row: Any, path: str) -> str:
    if path == "kind_label":
        return str(SITE_KINDS.get(row.kind, row.kind))
    value = row
    for part in path.split("."):
        value = getattr(value, part, None) if value is not None else None
    return "" if value is None else str(value)


def _choices(name: str) -> list[tuple[str, str]]:
    if name == "site_kinds":
        return [(k, str(v)) for k, v in SITE_KINDS.items()]
    if name == "counties":
        return [(c.id, c.name_zh) for c in choices.counties()]
    if name == "coach_types":
        return [(t.id, t.name) for t in choices.active_coach_types()]
    if name == "operators":
        return [(o.name, o.name) for o in choices.active_operators()]
    if name == "drivers":
        return [(str(d.id), f"{d.name} {d.phone}") for d in choices.active_drivers()]
    kind = PICKUP if name == "pickups" else DROPOFF
    return [(s.id, s.name_zh) for s in choices.active_sites(kind)]


def _section(name: str) -> Section:
    return SECTIONS.get(name) or abort(404)


def _row(section: Section, key: str) -> Any:
    model = fleet.KINDS[section.kind].model
    if model in (CoachType, Site):
        return db.session.get(model, key[:40]) or abort(404)
    return (db.session.get(model, parse_id(key)) if parse_id(key) else None) or abort(404)


def _list_page(name: str, raw: dict, errors: dict, status: int = 200, **extra) -> tuple[str, int]:
    q = request.args.get("q", "")[:60]
    section = _section(name)
    rows = fleet.search(section.kind, q)
    return render_template(
        "admin/fleet/index.html",
        name=name,
        section=section,
        rows=rows,
        q=q,
        raw=raw,
        errors=errors,
        **extra,
    ), status


@bp.get("/")
def home() -> tuple[str, int]:
    return _list_page("coaches", {}, {})


@bp.get("/<name>/")
def index(name: str) -> tuple[str, int]:
    return _list_page(name, {}, {})


@bp.post("/<name>/")
def create(name: str) -> Response | tuple[str, int]:
    section = _section(name)
    try:
        row = fleet.save(section.kind, None, request.form.to_dict(), current_user)
    except fleet.FleetError as error:
        db.session.rollback()
        return _list_page(name, request.form.to_dict(), error.fields, 422)
    db.session.commit()
    flash(_("Saved: %(name)s.", name=_label(row)), "success")
    return redirect(url_for(".index", name=name))


def _label(row: Any) -> str:
    return getattr(row, "plate", None) or getattr(row, "name_zh", None) or getattr(row, "name", "")


def _values(section: Section, row: Any) -> dict[str, Any]:
    values = {i.key: getattr(row, i.key, "") for i in section.inputs}
    values.update(
        operator=getattr(row, "operator", ""),
        name=getattr(row, "name_zh", None) or getattr(row, "name", ""),
    )
    values.update(
        coach_type=getattr(row, "coach_type_id", ""),
        depot=getattr(row, "depot_site_id", ""),
        destination=getattr(row, "site_id", ""),
        county=getattr(row, "county_id", ""),
    )
    return {k: ("" if v is None else v) for k, v in values.items()}


def _edit_page(name: str, row: Any, raw: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    section = _section(name)
    return render_template(
        "admin/fleet/edit.html",
        name=name,
        section=section,
        row=row,
        raw=raw,
        errors=errors,
        in_use=fleet.in_use(section.kind, row),
    ), status


@bp.get("/<name>/<key>")
def edit(name: str, key: str) -> tuple[str, int]:
    row = _row(_section(name), key)
    return _edit_page(name, row, _values(_section(name), row), {})


@bp.post("/<name>/<key>")
def update(name: str, key: str) -> Response | tuple[str, int]:
    section = _section(name)
    row = _row(section, key)
    try:
        fleet.save(section.kind, row, request.form.to_dict(), current_user)
    except fleet.FleetError as error:
        db.session.rollback()
        return _edit_page(name, _row(section, key), request.form.to_dict(), error.fields, 422)
    db.session.commit()
    flash(_("Saved: %(name)s.", name=_label(row)), "success")
    return redirect(url_for(".index", name=name))


@bp.post("/<name>/<key>/active")
def set_active(name: str, key: str) -> Response:
    section = _section(name)
    row = _row(section, key)
    active = request.form.get("active") == "1"
    fleet.set_active(section.kind, row, active, current_user)
    db.session.commit()
    flash(
        _("%(name)s is active again.", name=_label(row))
        if active
        else _(
            "%(name)s is deactivated: kept for the records, no longer offered.", name=_label(row)
        ),
        "success",
    )
    return redirect(url_for(".index", name=name))


@bp.post("/<name>/<key>/delete")
def delete(name: str, key: str) -> Response:
    section = _section(name)
    row = _row(section, key)
    label = _label(row)
    try:
        fleet.delete(section.kind, row, current_user)
    except fleet.InUse as error:
        db.session.rollback()
        flash(_("%(name)s cannot be deleted: %(reason)s", name=label, reason=str(error)), "error")
        return redirect(url_for(".edit", name=name, key=key))
    db.session.commit()
    flash(_("Deleted: %(name)s.", name=label), "success")
    return redirect(url_for(".index", name=name))


def _previews() -> Path:
    return Path(current_app.instance_path) / "fleet-imports"


@bp.post("/coaches/import")
def import_preview() -> tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _list_page("coaches", {}, {}, 422, import_error=_("Choose a file to import."))
    try:
        report = fleet_import.preview(upload.filename, upload.read())
    except ImportFileError as error:
        return _list_page("coaches", {}, {}, 422, import_error=str(error))
    token = fleet_import.store(_previews(), report)
    return _list_page("coaches", {}, {}, 200, report=report, token=token)


@bp.post("/coaches/import/confirm")
def import_confirm() -> Response:
    report = fleet_import.claim(_previews(), request.form.get("token", ""))
    if report is None:
        flash(
            _("This preview was already imported or has expired: upload the file again."), "error"
        )
        return redirect(url_for(".index", name="coaches"))
    result = fleet_import.commit(report, current_user)
    db.session.commit()
    flash(
        _(
            "Imported: %(added)d coaches added, %(changed)d changed, %(same)d unchanged.",
            added=result.added,
            changed=result.changed,
            same=result.unchanged,
        ),
        "success",
    )
    return redirect(url_for(".index", name="coaches"))
