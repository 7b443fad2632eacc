"""The coordinator's list of workers' replies a person must read, and marking one handled."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import utcnow
from dispatch.routes.access import editor_required
from dispatch.routes.forms import CsrfForm
from dispatch.services import reply_lists

bp = Blueprint("replies", __name__, url_prefix="/replies")


@bp.get("/")
@login_required
def index() -> str:
    handled = request.args.get("handled") == "1"
    return render_template(
        "replies/index.html",
        rows=reply_lists.unrecognised(current_user, handled),
        handled=handled,
        phone=lambda reply: reply_lists.phone_shown(current_user, reply),
        form=CsrfForm(),
    )


@bp.post("/<int:reply_id>/handled")
@editor_required
def mark_handled(reply_id: int) -> Response:
    if not CsrfForm().validate_on_submit():
        abort(400)
    reply = reply_lists.visible_reply(current_user, reply_id) or abort(404)
    flash(reply_lists.mark_handled(reply, current_user, utcnow()), "success")
    db.session.commit()
    return redirect(url_for(".index"))
