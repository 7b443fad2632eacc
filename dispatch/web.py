"""Web plumbing shared by all blueprints: locale, time display, headers, errors."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, render_template, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dispatch import ratelimit  # noqa: F401  (registers the database:// limiter storage)
from dispatch.extensions import db, login_manager
from dispatch.identity import mask_id_number, mask_phone

ZH = "zh_Hans_CN"
EN = "en"


def select_locale() -> str:
    """The user's chosen language, else the browser's (any zh* → zh_Hans_CN), else Chinese."""
    if not has_request_context():
        return ZH  # command line and scheduler: the bureau's language
    chosen = session.get("lang")
    if chosen in (ZH, EN):
        return chosen
    for value, _quality in request.accept_languages:
        tag = value.lower()
        if tag.startswith("zh"):
            return ZH
        if tag.startswith("en"):
            return EN
    return ZH


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware UTC datetime in the configured zone (Asia/Shanghai)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def form_value(value: object) -> str:
    """A value as an HTML form shows it: dates in ISO, None as empty."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


STATUS_LABELS = {
    "registered": _l("Registered"),
    "assigned": _l("Assigned"),
    "notified": _l("Notified"),
    "boarded": _l("Boarded"),
    "no_show": _l("No-show"),
    "cancelled": _l("Withdrawn"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Enforce foreign keys and let readers and a writer work side by side on SQLite."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def _security_headers(response):
    """On every response, errors included: only our own scripts and styles, never framed."""
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")  # answers carry personal data
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    if request.path.startswith("/api/"):
        from dispatch.routes.api_errors import api_error_response

        return api_error_response(error)
    return render_template("error.html", code=code, error=error), code


def _load_user(user_id: str):
    from dispatch.models import User

    return db.session.get(User, int(user_id))


def init_app(app: Flask) -> None:
    """Hook the shared web behaviour onto ``app``."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    login_manager.user_loader(_load_user)
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["isodate"] = iso_date
    app.jinja_env.filters["formvalue"] = form_value
    app.jinja_env.globals.update(
        status_label=status_label, mask_id=mask_id_number, mask_phone=mask_phone
    )
    app.jinja_env.globals["current_locale"] = select_locale
    app.after_request(_security_headers)
    for code in (400, 403, 404, 405, 409, 410, 413, 422, 429, 500):
        app.register_error_handler(code, _error_page)
    app.jinja_env.globals["nav_items"] = nav_items


NAV = (  # endpoint, label, admins only
    ("dashboard.index", _l("Dashboard"), False),
    ("workers.index", _l("Workers"), False),
    ("plans.index", _l("Plans"), False),
    ("boarding.index", _l("Boarding"), False),
    ("messages.index", _l("Messages"), False),
    ("workers.audit_log", _l("Audit"), True),
)


def nav_items() -> list[tuple[str, str]]:
    """The main navigation, limited to the areas this app has and the user may open."""
    from flask_login import current_user

    views = current_app.view_functions
    admin = current_user.is_authenticated and current_user.is_admin
    return [(e, label) for e, label, admin_only in NAV if e in views and (admin or not admin_only)]
