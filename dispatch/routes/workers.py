"""Worker registry pages: list, register, edit, withdraw, import, export."""

from __future__ import annotations

import secrets
import time
from datetime import date
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)  # fmt: skip
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import WORKER_STATUSES, County, Employer, Site
from dispatch.routes.access import admin_required, announce_changes, editor_required
from dispatch.services import audit, worker_export, worker_import
from dispatch.services import workers as service
from dispatch.services.worker_fields import FIELD_LABELS_ZH, Lookups, parse_date

bp = Blueprint("workers", __name__, url_prefix="/workers")


class CsrfForm(FlaskForm):
    """Forms whose fields are checked by the worker service; this adds the CSRF token."""


def _filter_from_args() -> service.WorkerFilter:
    try:
        day = parse_date(request.args.get("day"))
    except ValueError:
        day = None
    args = request.args
    return service.WorkerFilter(
        q=args.get("q", "").strip(), county=args.get("county", ""),
        destination=args.get("destination", ""), status=args.get("status", ""), day=day,
    )  # fmt: skip


def _choices() -> dict:
    scope = current_user.county_ids()
    counties = db.session.scalars(select(County).order_by(County.id)).all()
    return {
        "counties": [c for c in counties if scope is None or c.id in scope],
        "pickups": db.session.scalars(
            select(Site).filter_by(kind="pickup").order_by(Site.id)
        ).all(),
        "destinations": db.session.scalars(
            select(Site).filter_by(kind="dropoff").order_by(Site.id)
        ).all(),
        "employers": db.session.scalars(
            select(Employer).order_by(Employer.site_id, Employer.name)
        ).all(),
        "statuses": WORKER_STATUSES,
    }


@bp.app_template_global()
def field_label(field: str) -> str:
    """A worker field's name as the import template shows it (Chinese headers)."""
    return FIELD_LABELS_ZH.get(field, field)


@bp.get("/")
@login_required
def index() -> str:
    filters = _filter_from_args()
    page = request.args.get("page", 1, type=int)
    workers, total = service.page_of(service.filtered_query(current_user, filters), page)
    pages = max(1, -(-total // service.PER_PAGE))
    return render_template(
        "workers/index.html", workers=workers, total=total, page=page, pages=pages,
        filters=filters, form=CsrfForm(), **_choices(),
    )  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
@editor_required
def create() -> Response | str:
    form = CsrfForm()
    raw, errors = dict(request.form), {}
    if form.validate_on_submit():
        try:
            worker = service.create_worker(
                raw, current_user, Lookups.load(current_user.county_ids())
            )
        except service.DuplicateWorker as dup:
            if service.get_visible(current_user, dup.existing.id) is None:
                errors = {"id_number": _("This ID number is registered by another county's bureau.")}
            else:
                flash(_("This ID number is registered already: here is that worker."), "warning")
                return redirect(url_for(".edit", worker_id=dup.existing.id))
        except service.InvalidWorker as invalid:
            errors = invalid.errors
        else:
            db.session.commit()
            flash(_("Registered %(name)s.", name=worker.name), "success")
            return redirect(url_for(".index"))
    raw.setdefault("sms_consent", "是")
    return render_template(
        "workers/form.html", form=form, raw=raw, errors=errors, worker=None, **_choices()
    )


@bp.route("/<int:worker_id>", methods=["GET", "POST"])
@login_required
def edit(worker_id: int) -> Response | str:
    worker = service.get_visible(current_user, worker_id) or abort(404)
    form, errors = CsrfForm(), {}
    raw = dict(request.form) if request.method == "POST" else service.as_raw(worker)
    if form.validate_on_submit():
        if not current_user.can_edit:
            abort(403)
        try:
            service.update_worker(
                worker, raw, current_user, Lookups.load(current_user.county_ids())
            )
        except service.DuplicateWorker:
            errors = {"id_number": _("Another worker has this ID number.")}
        except service.InvalidWorker as invalid:
            errors = invalid.errors
        except service.WorkerLocked as locked:
            flash(str(locked), "error")
        else:
            announce_changes()
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".edit", worker_id=worker.id))
    return render_template(
        "workers/form.html", form=form, raw=raw, errors=errors, worker=worker, **_choices()
    )


@bp.post("/<int:worker_id>/withdraw")
@editor_required
def withdraw(worker_id: int) -> Response:
    worker = service.get_visible(current_user, worker_id) or abort(404)
    if CsrfForm().validate_on_submit():
        service.withdraw_worker(worker, current_user)
        announce_changes()
        db.session.commit()
        flash(_("Withdrawn: %(name)s is kept on record as cancelled.", name=worker.name), "success")
    return redirect(url_for(".edit", worker_id=worker.id))


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    full = request.args.get("full") == "1"
    if full and not current_user.is_admin:
        abort(403)
    workers = db.session.scalars(service.filtered_query(current_user, _filter_from_args())).all()
    audit.record(current_user, "worker.export", "export", fmt, {"count": len(workers), "full": full,
                 "filters": request.args.to_dict()}, request.remote_addr or "")  # fmt: skip
    db.session.commit()
    body = (
        worker_export.to_csv(workers, full)
        if fmt == "csv"
        else worker_export.to_xlsx(workers, full)
    )
    mimetype = (
        "text/csv"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"workers-{date.today():%Y%m%d}{'-full' if full else ''}.{fmt}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.get("/template.xlsx")
@login_required
def template() -> Response:
    return Response(
        worker_export.template_xlsx(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=worker-import-template.xlsx"},
    )


def _forget_old_imports(max_age_s: int = 24 * 3600) -> None:
    """Checked previews never confirmed hold personal data: drop them after a day."""
    cutoff = time.time() - max_age_s
    for path in _upload_dir().glob("*.json"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _upload_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(exist_ok=True)
    return path


@bp.route("/import", methods=["GET", "POST"])
@editor_required
def import_file() -> str:
    form = CsrfForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        return render_template("workers/import.html", form=form, report=None)
    data, filename = upload.read(), upload.filename
    try:
        report = worker_import.preview(filename, data, Lookups.load(current_user.county_ids()))
    except worker_import.ImportFileError as error:
        flash(str(error), "error")
        return render_template("workers/import.html", form=form, report=None)
    token = secrets.token_urlsafe(16)
    _forget_old_imports()
    (_upload_dir() / f"{token}.json").write_text(worker_import.report_to_json(report), encoding="utf-8")
    session["import"] = {"token": token, "filename": filename}
    return render_template(
        "workers/import.html", form=form, report=report, filename=filename, token=token
    )


@bp.post("/import/<token>/commit")
@editor_required
def import_commit(token: str) -> Response:
    pending = session.get("import") or {}
    path = _upload_dir() / f"{token}.json"
    if pending.get("token") != token or not path.exists() or not CsrfForm().validate_on_submit():
        flash(_("This import has expired: upload the file again."), "error")
        return redirect(url_for(".import_file"))
    lookups = Lookups.load(current_user.county_ids())
    prepared = worker_import.report_from_json(path.read_text(encoding="utf-8"))
    report = worker_import.commit(pending["filename"], b"", lookups, current_user, prepared)
    db.session.commit()
    path.unlink(missing_ok=True)
    session.pop("import", None)
    flash(_("Imported %(n)d workers; %(existing)d were registered already; %(bad)d rows with errors were skipped.",
            n=report.written, existing=report.count("existing"), bad=len(report.errors)), "success")  # fmt: skip
    return redirect(url_for(".index"))


@bp.get("/audit")
@admin_required
def audit_log() -> str:
    from dispatch.models import AuditEvent

    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(500)).all()
    return render_template("workers/audit.html", events=events)
