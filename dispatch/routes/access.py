"""Role checks shared by the blueprints, and nothing else; any view module may import it."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def editor_required(view):
    """Admins and coordinators only; viewers get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.can_edit:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Admins only; others get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admins_only(bp) -> None:
    """Every view of ``bp`` for admins only: others log in first, then get 403."""

    @bp.before_request
    @login_required
    def _admins_only() -> None:
        if not current_user.is_admin:
            abort(403)
