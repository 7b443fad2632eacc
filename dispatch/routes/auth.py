"""Logging in and out, and choosing the language."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from dispatch.extensions import db, limiter
from dispatch.models import User, utcnow
from dispatch.services import audit
from dispatch.web import EN, ZH

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _login_limit() -> str:
    return f"{current_app.config['LOGIN_FAILURES_PER_MINUTE']} per minute"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
def login() -> Response | tuple[str, int] | str:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.is_submitted() else 200
    user = db.session.scalar(select(User).filter_by(username=form.username.data.strip()))
    if user is None or not user.active or not user.check_password(form.password.data):
        flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", form=form), 401
    login_user(user)
    user.last_login_at = utcnow()
    audit.record(user, "user.login", "user", user.id, remote_addr=request.remote_addr or "")
    db.session.commit()
    return redirect(_safe_next(request.args.get("next")))


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Response:
    lang = request.form.get("lang")
    if lang in (ZH, EN):
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


@bp.app_context_processor
def _inject_user():
    return {"user": current_user}
