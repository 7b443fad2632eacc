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
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from dispatch.extensions import db, limiter
from dispatch.models import utcnow
from dispatch.services import accounts, audit
from dispatch.web import EN, ZH, safe_local_path, start_session

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _login_limit() -> str:
    return f"{current_app.config['LOGIN_FAILURES_PER_MINUTE']} per minute"


def _account_limit() -> str:
    return str(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])


def _account_key() -> str:
    """Failures are counted per username too, so many addresses cannot share out the guessing."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:60]


def _failed(response: Response) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key, deduct_when=_failed)
def login() -> Response | tuple[str, int] | str:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.is_submitted() else 200
    user = accounts.authenticate(form.username.data, form.password.data)
    if user is None:
        flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", form=form), 401
    _begin_session(user)
    return redirect(safe_local_path(request.args.get("next"), url_for("dashboard.index")))


def _begin_session(user) -> None:
    lang = session.get("lang")
    session.clear()  # nothing from before the login carries over
    if lang:
        session["lang"] = lang
    login_user(user)
    start_session()
    user.last_login_at = utcnow()
    audit.record(user, "user.login", "user", user.id, remote_addr=request.remote_addr or "")
    db.session.commit()


@bp.errorhandler(429)
def _throttled(_error) -> tuple[str, int]:
    """A throttled login stays on the login page, saying why in the user's language."""
    flash(
        _(
            "Too many failed logins for this account or from this address. Wait a few minutes and try again."
        ),
        "error",
    )
    return render_template("auth/login.html", form=LoginForm()), 429


@bp.post("/logout")
@login_required
def logout() -> Response:
    accounts.log_out_everywhere(current_user)
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Response:
    lang = request.form.get("lang")
    if lang in (ZH, EN):
        session["lang"] = lang
    return redirect(safe_local_path(request.form.get("next"), url_for("dashboard.index")))


@bp.app_context_processor
def _inject_user():
    return {"user": current_user}
