"""The admin's fleet and places pages: operators, coaches, drivers, coach types, employers, sites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.ids import parse_id
from dispatch.models import DROPOFF, PICKUP, CoachType, Site
from dispatch.routes.access import admins_only
from dispatch.routes.admin_fleet_forms import IMPORT_LABELS, SECTIONS, SITE_KINDS, Section
from dispatch.services import choices, fleet, fleet_import
from dispatch.services.worker_sheets import ImportFileError

bp = Blueprint("admin_fleet", __name__, url_prefix="/admin/fleet")
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
