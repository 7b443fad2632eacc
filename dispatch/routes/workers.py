"""Worker registry pages: list, register, edit, withdraw, import, export."""

from __future__ import annotations

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
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from dispatch.extensions import db
from dispatch.models.workers import CANCELLED
from dispatch.routes.access import admin_required, editor_required
from dispatch.routes.announce import announce_changes
from dispatch.routes.forms import CsrfForm
from dispatch.routes.worker_form import form_choices, shown
from dispatch.services import audit, choices, message_reports, seats, worker_export, worker_import
from dispatch.services import workers as service
from dispatch.services.dates import parse_date
from dispatch.services.import_previews import PreviewStore
from dispatch.services.worker_columns import skip_reason_label
from dispatch.services.worker_fields import (
    FIELD_LABELS_ZH,
    Lookups,
    clean_departure_window,
    without_controls,
)
from dispatch.web import checks_its_own_text, parse_id, parse_page, select_locale

bp = Blueprint("workers", __name__, url_prefix="/workers")


def _filter_from_args() -> service.WorkerFilter:
    args = {k: without_controls(v) for k, v in request.args.items()}
    try:
        day = parse_date(args.get("day"))
    except ValueError:
        day = None
    return service.WorkerFilter(
        q=args.get("q", "").strip(),
        county=args.get("county", ""),
        destination=args.get("destination", ""),
        status=args.get("status", ""),
        day=day,
    )


@bp.app_template_global()
def field_label(field: str) -> str:
    """A worker field's name as the import template shows it (Chinese headers)."""
    return FIELD_LABELS_ZH.get(field, field)


@bp.app_template_global()
def skip_reason(reason: str) -> str:
    """Why an import row was skipped, in the user's language."""
    return skip_reason_label(reason)


@bp.get("/")
@login_required
def index() -> str:
    filters = _filter_from_args()
    page = parse_page(request.args.get("page"))
    workers, total = service.page_of(service.filtered_query(current_user, filters), page)
    pages = max(1, -(-total // service.PER_PAGE))
    return render_template(
        "workers/index.html",
        workers=workers,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        form=CsrfForm(),
        **form_choices(filters=True),
    )


@bp.route("/new", methods=["GET", "POST"])
@checks_its_own_text  # control characters: an error on the field, what was typed kept
@editor_required
def create() -> Response | str:
    form = CsrfForm()
    raw, errors, withdrawn = dict(request.form), {}, None
    again = parse_id(request.form.get("reregister"))  # "register again" of a withdrawn worker
    if form.validate_on_submit():
        try:
            worker = service.create_worker(
                raw, current_user, Lookups.load(current_user.county_ids()), again=again
            )
        except service.DuplicateWorker as dup:
            if service.get_visible(current_user, dup.existing.id) is None:
                errors = {
                    "id_number": _("This ID number is registered by another county's bureau.")
                }
            elif dup.withdrawn:  # the form again, what was typed kept, offering to register again
                withdrawn = dup.existing
            else:
                flash(_("This ID number is registered already: here is that worker."), "warning")
                return redirect(url_for(".edit", worker_id=dup.existing.id))
        except service.InvalidWorker as invalid:
            errors = invalid.errors
            withdrawn = service.get_visible(current_user, again) if again else None
        else:
            db.session.commit()
            if worker.id == again:
                flash(
                    _(
                        "%(name)s is registered again with these details and waits for a seat.",
                        name=worker.name,
                    ),
                    "success",
                )
                return redirect(url_for(".edit", worker_id=worker.id))
            flash(_("Registered %(name)s.", name=worker.name), "success")
            return redirect(url_for(".index"))
    raw.setdefault("sms_consent", "是")
    scope = current_user.county_ids()
    if scope is not None and len(scope) == 1:  # a county's coordinator: their county, chosen
        raw.setdefault("county", next(iter(scope)))
    return render_template(
        "workers/form.html",
        form=form,
        raw=raw,
        errors=errors,
        worker=None,
        withdrawn=withdrawn,
        **form_choices(),
    )


@bp.route("/<int:worker_id>", methods=["GET", "POST"])
@checks_its_own_text
@login_required
def edit(worker_id: int) -> Response | str:
    worker = service.get_visible(current_user, worker_id) or abort(404)
    form, errors = CsrfForm(), {}
    raw = dict(request.form) if request.method == "POST" else shown(worker)
    if form.validate_on_submit():
        if not current_user.can_edit:
            abort(403)
        try:
            service.update_worker(
                worker, raw, current_user, Lookups.load(current_user.county_ids(), keep=worker)
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
        "workers/form.html",
        form=form,
        raw=raw,
        errors=errors,
        worker=worker,
        messages=message_reports.worker_messages(worker.id),
        **form_choices(worker),
    )


@bp.route("/<int:worker_id>/withdraw", methods=["GET", "POST"])
@editor_required
def withdraw(worker_id: int) -> Response | str:
    """GET asks for confirmation (what will happen); the confirmed POST withdraws."""
    worker = service.get_visible(current_user, worker_id) or abort(404)
    form = CsrfForm()
    if worker.status == CANCELLED:
        flash(_("%(name)s is withdrawn already.", name=worker.name), "info")
        return redirect(url_for(".edit", worker_id=worker.id))
    if not form.validate_on_submit():
        seat = seats.live_seat(worker.id)
        return render_template("workers/withdraw.html", form=form, worker=worker, seat=seat)
    service.withdraw_worker(worker, current_user)
    announce_changes()
    db.session.commit()
    flash(_("Withdrawn: %(name)s is kept on record as cancelled.", name=worker.name), "success")
    return redirect(url_for(".edit", worker_id=worker.id))


@bp.post("/<int:worker_id>/reinstate")
@editor_required
def reinstate(worker_id: int) -> Response:
    """A withdrawn registration made active again: the worker waits for a seat."""
    worker = service.get_visible(current_user, worker_id) or abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        done = service.reinstate_worker(worker, current_user)
    except service.WorkerLocked as locked:
        flash(str(locked), "error")
    else:
        if done:
            db.session.commit()
            flash(
                _("%(name)s is registered again and waits for a seat.", name=worker.name), "success"
            )
        else:
            flash(_("%(name)s is not withdrawn.", name=worker.name), "info")
    return redirect(url_for(".edit", worker_id=worker.id))


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    full = request.args.get("full") == "1"
    if full and not current_user.is_admin:
        abort(403)
    workers = service.filtered(current_user, _filter_from_args())
    # Written before the audit's commit, which expires every worker loaded: each row then
    # reloaded its worker, one query a worker (100,000 workers: 92 s as CSV, 144 s as xlsx).
    body = (
        worker_export.to_csv(workers, full)
        if fmt == "csv"
        else worker_export.to_xlsx(workers, full)
    )
    audit.record(
        current_user,
        "worker.export",
        "export",
        fmt,
        {"count": len(workers), "full": full, "filters": request.args.to_dict()},
        request.remote_addr or "",
    )
    db.session.commit()
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


def _previews() -> PreviewStore:
    return PreviewStore(Path(current_app.instance_path) / "imports")


def place_names() -> dict[str, str]:
    """Counties and sites by id, in the user's language (the import preview's columns)."""
    locale = select_locale()
    return {key: p.display_name(locale) for key, p in choices.places().items()}


def _file_dates() -> tuple[worker_import.FileDates, dict[str, str]]:
    """The departure date (or window) chosen on the upload form for rows that have none."""
    raw = {k: without_controls(request.form.get(k, "")) for k in ("earliest_date", "latest_date")}
    cleaned = clean_departure_window(raw)
    dates = worker_import.FileDates(cleaned.values["earliest"], cleaned.values["latest"])
    return dates, cleaned.errors


def _upload_form(form: CsrfForm, errors: dict | None = None) -> str:
    return render_template(
        "workers/import.html", form=form, report=None, errors=errors or {}, raw=request.form
    )


@bp.route("/import", methods=["GET", "POST"])
@editor_required
def import_file() -> str:
    form = CsrfForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        return _upload_form(form)
    dates, errors = _file_dates()
    if errors:
        return _upload_form(form, errors)
    data, filename = upload.read(), without_controls(upload.filename)[:120]
    try:
        report = worker_import.preview(
            filename, data, Lookups.load(current_user.county_ids()), dates
        )
    except worker_import.ImportFileError as error:
        flash(str(error), "error")
        return _upload_form(form)
    token = _previews().store(report)
    session["import"] = {"token": token, "filename": filename}
    return render_template(
        "workers/import.html",
        form=form,
        report=report,
        filename=filename,
        token=token,
        place_names=place_names(),
    )


@bp.post("/import/<token>/commit")
@editor_required
def import_commit(token: str) -> Response:
    store, pending = _previews(), session.get("import") or {}
    mine = pending.get("token") == token and CsrfForm().validate_on_submit()
    prepared = store.claim(token) if mine else None
    if prepared is None:  # a second click, the page sent again, or an old page
        return _import_claimed_elsewhere(store, token)
    lookups = Lookups.load(current_user.county_ids())
    try:
        report = worker_import.commit(pending["filename"], b"", lookups, current_user, prepared)
        db.session.commit()
    except IntegrityError:  # another import registered the same ID numbers meanwhile
        db.session.rollback()
        store.release(token)
        flash(_("Some of these workers were registered meanwhile: check the file again."), "error")
        return redirect(url_for(".import_file"))
    store.finish(token, current_user.id, report.written)
    session.pop("import", None)
    flash(
        _(
            "Imported %(n)d workers; %(existing)d were registered already; %(bad)d rows with errors were skipped.",
            n=report.written,
            existing=report.count("existing"),
            bad=len(report.errors),
        ),
        "success",
    )
    return redirect(url_for(".index"))


def _import_claimed_elsewhere(store: PreviewStore, token: str) -> Response:
    """Say what the first confirmation of this preview did, or that it has expired."""
    done = store.outcome(token, current_user.id)
    if done is not None:
        flash(_("This file was imported already: %(n)d workers were saved.", n=done), "info")
        return redirect(url_for(".index"))
    flash(_("This import has expired: upload the file again."), "error")
    return redirect(url_for(".import_file"))


@bp.get("/audit")
@admin_required
def audit_log() -> str:
    from dispatch.services import audit_log

    args, tz = request.args, current_app.config["TIMEZONE"]
    days = [audit_log.parse_day(args.get(k, "")) for k in ("from", "to")]
    filters = audit_log.AuditFilter(
        action=args.get("action", ""),
        user_id=parse_id(args.get("user")),
        day_from=days[0],
        day_to=days[1],
    )
    lines = audit_log.describe(audit_log.search(filters, tz), tz)
    return render_template(
        "workers/audit.html",
        lines=lines,
        filters=filters,
        limit=audit_log.LIMIT,
        actions=audit_log.action_choices(),
        users=audit_log.user_choices(),
    )
