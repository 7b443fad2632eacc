"""The admin's users page: accounts, roles, county scopes, passwords and API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from dispatch.extensions import db
from dispatch.models import ROLES, County, User
from dispatch.routes.access import admins_only
from dispatch.services import accounts, choices

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("County coordinator"),
    "viewer": _l("Viewer"),
}
ERRORS = {
    "username": _l("A username needs 1 to 40 characters."),
    "exists": _l("This username is taken already."),
    "role": _l("Choose a role."),
    "no_county": _l("A county coordinator needs at least one county."),
    "county": _l("Unknown county."),
    "short_password": _l("The password needs at least 8 characters."),
    "last_admin": _l(
        "This is the last active administrator: make another user an administrator first."
    ),
}


admins_only(bp)


@bp.app_context_processor
def _role_labels():
    return {"role_label": lambda role: str(ROLE_LABELS.get(role, role))}


def _counties() -> list[County]:
    return choices.counties_by_region()


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _error(error: accounts.AccountError) -> str:
    return str(ERRORS.get(error.code, _("This change cannot be made.")))


def _secret_page(template: str, status: int = 200, **context) -> tuple[str, int, dict[str, str]]:
    """A page showing a password or token once: never cached, never replayed from history."""
    return render_template(template, **context), status, {"Cache-Control": "no-store"}


@bp.get("/")
def index() -> str:
    q = request.args.get("q", "")[:60]
    return render_template(
        "admin/users.html",
        users=accounts.search_users(q),
        q=q,
        counties=_counties(),
        roles=ROLES,
        form={},
    )


@bp.post("/")
def create() -> tuple[str, int, dict[str, str]]:
    form = request.form
    password = accounts.generate_password()
    try:
        user = accounts.create_user(
            form.get("username", ""),
            form.get("role", ""),
            password,
            form.getlist("county"),
            form.get("display_name", "").strip(),
        )
    except accounts.AccountError as error:
        flash(_error(error), "error")
        page = render_template(
            "admin/users.html",
            users=accounts.search_users(),
            q="",
            counties=_counties(),
            roles=ROLES,
            form=form,
        )
        return page, 422, {}
    _audit_create(user)
    db.session.commit()
    flash(_("User %(name)s created.", name=user.username), "success")
    return _secret_page("admin/user.html", **_user_context(user), new_password=password)


def _audit_create(user: User) -> None:
    from dispatch.services import audit

    audit.record(
        current_user,
        "user.create",
        "user",
        user.id,
        {"username": user.username, "role": user.role, "counties": [c.id for c in user.counties]},
    )


def _user_context(user: User) -> dict:
    return {
        "account": user,
        "counties": _counties(),
        "roles": ROLES,
        "tokens": accounts.live_tokens(user),
    }


@bp.get("/<int:user_id>")
def show(user_id: int) -> str:
    return render_template("admin/user.html", **_user_context(_user_or_404(user_id)))


@bp.post("/<int:user_id>/access")
def change_access(user_id: int) -> Response:
    user = _user_or_404(user_id)
    try:
        accounts.change_access(
            user, request.form.get("role", ""), request.form.getlist("county"), current_user
        )
    except accounts.AccountError as error:
        db.session.rollback()
        flash(_error(error), "error")
        return redirect(url_for(".show", user_id=user_id))
    db.session.commit()
    flash(_("Role and counties saved."), "success")
    return redirect(url_for(".show", user_id=user_id))


@bp.post("/<int:user_id>/active")
def set_active(user_id: int) -> Response:
    user, active = _user_or_404(user_id), request.form.get("active") == "1"
    try:
        accounts.set_active(user, active, current_user)
    except accounts.AccountError as error:
        db.session.rollback()
        flash(_error(error), "error")
        return redirect(url_for(".show", user_id=user_id))
    db.session.commit()
    flash(
        _("Account enabled.")
        if active
        else _("Account disabled: its sessions and API tokens no longer work."),
        "success",
    )
    return redirect(url_for(".show", user_id=user_id))


@bp.post("/<int:user_id>/password")
def reset_password(user_id: int) -> tuple[str, int, dict[str, str]]:
    user = _user_or_404(user_id)
    password = accounts.reset_password(user, current_user)
    db.session.commit()
    return _secret_page("admin/user.html", **_user_context(user), new_password=password)


@bp.post("/<int:user_id>/tokens")
def create_token(user_id: int) -> tuple[str, int, dict[str, str]]:
    user = _user_or_404(user_id)
    token = accounts.create_token(user, request.form.get("label", "").strip(), by=current_user)
    db.session.commit()
    return _secret_page("admin/user.html", **_user_context(user), new_token=token)


@bp.post("/<int:user_id>/tokens/<int:token_id>/revoke")
def revoke_token(user_id: int, token_id: int) -> Response:
    user = _user_or_404(user_id)
    if not accounts.revoke_token(user, token_id, current_user):
        abort(404)
    db.session.commit()
    flash(_("Token revoked: it no longer works."), "success")
    return redirect(url_for(".show", user_id=user_id))
