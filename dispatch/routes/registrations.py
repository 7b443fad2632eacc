"""A coordinator's review of the registrations workers sent themselves (/join), and posters."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from dispatch.extensions import db
from dispatch.models import utcnow
from dispatch.routes.access import editor_required
from dispatch.routes.forms import CsrfForm
from dispatch.services import join_poster, self_registration
from dispatch.services import registration_review as service
from dispatch.web import parse_id

bp = Blueprint("registrations", __name__, url_prefix="/registrations")


@bp.app_template_global()
def pending_registrations_badge() -> int:
    """How many registrations of the user's counties await review (once per request)."""
    if not current_user.is_authenticated:
        return 0
    if "pending_registrations" not in g:
        g.pending_registrations = service.pending_count(current_user)
    return g.pending_registrations


@bp.get("/")
@login_required
def index() -> str:
    return render_template(
        "registrations/index.html",
        pending=service.pending_registrations(current_user),
        reviewed=service.recent_reviews(current_user),
        reasons=[(code, label) for code, (label, _words) in service.DECLINE_REASONS.items()],
        form=CsrfForm(),
    )


@bp.post("/accept")
@editor_required
def accept() -> Response:
    if CsrfForm().validate_on_submit():
        ids = [i for i in (parse_id(v) for v in request.form.getlist("worker_id")) if i]
        report = service.accept(current_user, ids, utcnow(), current_app.config)
        db.session.commit()
        _flash_report(report)
    return redirect(url_for(".index"), 303)


def _flash_report(report: service.ReviewReport) -> None:
    if report.accepted:
        n = len(report.accepted)
        flash(_("Accepted %(n)d registrations; each is told by SMS.", n=n), "success")
    for worker, reason in report.refused:
        who = worker.name if worker is not None else _("A registration")
        flash(_("%(name)s was not accepted: %(reason)s", name=who, reason=reason), "error")
    if not report.accepted and not report.refused:
        flash(_("Tick the registrations to accept first."), "info")


@bp.post("/<int:worker_id>/decline")
@editor_required
def decline(worker_id: int) -> Response:
    form = CsrfForm()
    if form.validate_on_submit():
        reason, words = request.form.get("reason", ""), request.form.get("reason_text", "")
        try:
            worker = service.decline(
                current_user, worker_id, reason, words[:500], utcnow(), current_app.config
            )
        except LookupError:
            flash(_("This registration is not awaiting review any more."), "error")
        except ValueError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Declined %(name)s; the worker is told by SMS.", name=worker.name), "success")
    return redirect(url_for(".index"), 303)


@bp.get("/posters")
@login_required
def posters() -> str:
    base = current_app.config["PUBLIC_BASE_URL"]
    return render_template(
        "registrations/posters.html",
        counties=self_registration.poster_places(current_user),
        base_url=base,
        unreachable=join_poster.only_this_machine(base),
    )
