"""Web plumbing shared by all blueprints: locale, time display, headers, errors."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import date, datetime, timedelta
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, abort, current_app, has_request_context, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from dispatch import ratelimit  # noqa: F401  (registers the database:// limiter storage)
from dispatch.extensions import login_manager
from dispatch.identity import mask_id_number, mask_phone
from dispatch.ids import MAX_ID, parse_id  # noqa: F401  (parse_id: the views' import)
from dispatch.services.place_names import place_name

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
    "pending": _l("Awaiting review"),
    "registered": _l("Registered"),
    "assigned": _l("Assigned"),
    "notified": _l("Notified"),
    "boarded": _l("Boarded"),
    "no_show": _l("No-show"),
    "arrived": _l("Arrived"),
    "cancelled": _l("Withdrawn"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@event.listens_for(Engine, "connect")
def _connection_settings(dbapi_connection, _record) -> None:
    """SQLite: enforce foreign keys and let readers and a writer work side by side.

    PostgreSQL: no JIT compilation. Its planner over-estimates the dashboard's per-worker
    sub-queries (cost 52 million for 6,000 rows) and JIT-compiles the query: 370-560 ms for a
    county at 100,000 workers, 16-22 ms without, for 5 ms of work. Every query here is short,
    so JIT never pays. Committed, so that the pool's rollback on check-in does not undo it."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


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
        from dispatch.routes.api.errors import api_error_response

        return api_error_response(error)
    description = getattr(error, "description", None)
    own = description if description and description != type(error).description else None
    return render_template("error.html", code=code, error=error, message=own), code


# --- Redirect targets ---------------------------------------------------------------------

_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def safe_local_path(value: str | None, default: str) -> str:
    """``value`` when it is a path on this site ("/workers?page=2"), else ``default``.

    Browsers strip tabs and newlines from a URL and read a backslash as a slash, so
    "/<tab>/x.example" leads off-site: control characters and backslashes are refused, and so
    is anything with a scheme or host, or starting "//"."""
    if not value or not isinstance(value, str) or len(value) > 2000:
        return default
    # Decoded as well: a proxy or a second redirect may decode "%09" or "%2F" once more.
    return value if _is_local_path(value) and _is_local_path(unquote(value)) else default


def _is_local_path(value: str) -> bool:
    if _UNSAFE_IN_PATH.search(value) or not value.startswith("/") or value.startswith("//"):
        return False
    parts = urlsplit(value)
    return (
        not (parts.scheme or parts.netloc)
        and parts.path.startswith("/")
        and not parts.path.startswith("//")
    )


# --- Ids in URLs --------------------------------------------------------------------------


class IdConverter(IntegerConverter):
    """``<int:…>`` that matches only ids a row can have, so /workers/99999999999999999999 is 404.

    The range is in the pattern itself: werkzeug answers 405, not 404, when a rule's converter
    refuses a value after another rule on the same path failed on its method."""

    regex = (  # 0 … 2147483647 (MAX_ID)
        r"\d{1,9}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
        r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7]"
    )

    def to_python(self, value: str) -> int:
        from werkzeug.routing import ValidationError

        number = super().to_python(value)
        if not 0 <= number <= MAX_ID:
            raise ValidationError()
        return number


def parse_page(value: object, last: int = 100_000) -> int:
    """A page number from a query ("3"), 1 when missing or not a number, at most ``last``."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,6}", value.strip()):
        return 1
    return min(max(int(value), 1), last)


# --- Input no database should store ------------------------------------------------------

# C0/C1 control characters except tab, newline and carriage return, and lone surrogates
# (PostgreSQL refuses NUL and cannot encode surrogates: a 500 after the work was done).
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unstorable_text(value: object) -> bool:
    """Whether ``value`` (text, or JSON made of lists and dicts) holds a character we refuse."""
    if isinstance(value, str):
        return bool(_UNSTORABLE.search(value))
    if isinstance(value, dict):
        return any(unstorable_text(k) or unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable_text(v) for v in value)
    return False


def _hostile_field() -> str | None:
    """The name of the first query or form field (or a JSON page body) we refuse."""
    fields = list(request.args.items(multi=True))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields += list(request.form.items(multi=True))
        fields += [(key, f.filename or "") for key, f in request.files.items(multi=True)]
    for key, value in fields:
        if unstorable_text(key) or unstorable_text(value):
            return key if not unstorable_text(key) else "?"
    page_json = request.is_json and not request.path.startswith("/api/")  # the API checks its own
    return "body" if page_json and unstorable_text(request.get_json(silent=True)) else None


def checks_its_own_text(view):
    """Mark a view whose form shows control characters as an error on the field itself (keeping
    what the person typed), so the site-wide guard lets its form fields through."""
    view.checks_its_own_text = True
    return view


def _refuse_unstorable_input():
    """400 (a page, or the API's query) for control characters or broken text in any input."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "checks_its_own_text", False) and request.method == "POST":
        return None
    if unstorable_text(request.view_args or {}):
        abort(404)  # a path with control characters names nothing here
    field = _hostile_field()
    if field is None:
        return None
    message = _(
        "The text sent contains control characters or broken characters that cannot be "
        "stored. Remove them (retype the text) and try again."
    )
    if request.path.startswith("/api/"):  # query parameters (the API checks its JSON bodies: 422)
        from dispatch.routes.api.errors import api_error

        return api_error(400, message, {field: message})
    abort(400, message)


# --- Login sessions ---------------------------------------------------------------------

LOGIN_AT = "login_at"


def start_session() -> None:
    """After a login: a session that ends after SESSION_IDLE idle time and SESSION_MAX in all."""
    session.permanent = True  # its cookie expires PERMANENT_SESSION_LIFETIME after the last request
    session[LOGIN_AT] = int(time.time())


def _load_user(session_id: str):
    from dispatch.services.accounts import user_for_session

    started = session.get(LOGIN_AT)
    max_age = current_app.config["SESSION_MAX_HOURS"] * 3600
    if not isinstance(started, int) or time.time() - started > max_age:
        return None  # older than the absolute cap, or from before it
    return user_for_session(session_id)


def init_app(app: Flask) -> None:
    """Hook the shared web behaviour onto ``app``."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    login_manager.user_loader(_load_user)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_IDLE_HOURS"])
    app.config["REMEMBER_COOKIE_DURATION"] = app.config["PERMANENT_SESSION_LIFETIME"]
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_unstorable_input)
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["isodate"] = iso_date
    app.jinja_env.filters["formvalue"] = form_value
    app.jinja_env.filters["coach_type_name"] = coach_type_name
    app.jinja_env.filters["pickup_place"] = pickup_place
    app.jinja_env.globals["list_sep"] = list_sep
    app.jinja_env.globals.update(
        status_label=status_label, mask_id=mask_id_number, mask_phone=mask_phone
    )
    app.jinja_env.globals["current_locale"] = select_locale
    app.after_request(_security_headers)
    for code in (400, 403, 404, 405, 409, 410, 413, 422, 429, 500):
        app.register_error_handler(code, _error_page)
    app.jinja_env.globals["nav_items"] = nav_items
    app.add_url_rule("/favicon.ico", "favicon", _favicon)


def list_sep() -> str:
    """What goes between the items of a list in the page's language: 、 in Chinese, a comma
    in English."""
    return "、" if select_locale().startswith("zh") else ", "


def pickup_place(site) -> str:
    """A pickup point as a worker looks for it: in Chinese where to stand, as their SMS says it
    (洪洞县人社局门前广场, not the county's name the demo's points carry); in English its name."""
    if not select_locale().startswith("zh"):
        return site.display_name("en")
    return place_name(site.name_zh, site.address or "")


def coach_type_name(coach_type) -> str:
    """A coach type as the page's language says it: the bureau's own name in Chinese
    (45座大型客车); in English, its rated seats (45-seat coach), where the name is Chinese."""
    if select_locale().startswith("zh"):
        return coach_type.name
    return _("%(n)d-seat coach", n=coach_type.rated_seats)


def _favicon():
    """Browsers and tools ask for /favicon.ico whatever the page links."""
    return current_app.send_static_file("favicon.ico")


NAV = (  # endpoint, label, admins only
    ("dashboard.index", _l("Dashboard"), False),
    ("workers.index", _l("Workers"), False),
    ("registrations.index", _l("Registrations"), False),
    ("plans.index", _l("Plans"), False),
    ("boarding.index", _l("Boarding"), False),
    ("messages.index", _l("Messages"), False),
    ("replies.index", _l("Replies"), False),
    ("workers.audit_log", _l("Audit"), True),
    ("admin_users.index", _l("Users"), True),
    ("admin_fleet.home", _l("Fleet and places"), True),
)


def nav_items() -> list[tuple[str, str, bool]]:
    """The main navigation (endpoint, label, whether it is the current area), limited to the
    areas this app has and the user may open."""
    from flask_login import current_user

    views = current_app.view_functions
    admin = current_user.is_authenticated and current_user.is_admin
    items = [(e, label) for e, label, admin_only in NAV if e in views and (admin or not admin_only)]
    here = request.endpoint or ""
    exact = any(e == here for e, _label in items)  # the audit log is a workers.* page of its own
    return [
        (e, label, e == here if exact else e.split(".")[0] == here.split(".")[0])
        for e, label in items
    ]
