"""/join: workers register themselves from a poster's QR code (public: no account).

Every endpoint is rate-limited per address (Flask-Limiter) and CSRF-protected (the site-wide
CSRFProtect: the page's forms carry the token, the script sends it as X-CSRFToken). No answer
depends on whether an ID number or mobile is registered (services/self_registration.py).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from dispatch.extensions import limiter
from dispatch.models import utcnow
from dispatch.services import join_poster, manifest_export, verification
from dispatch.services import self_registration as service
from dispatch.services.worker_fields import without_controls
from dispatch.web import checks_its_own_text

bp = Blueprint("join", __name__)


def _limit(key: str):
    return lambda: str(current_app.config[key])


# The pages a scan opens share one count per address (the form, the confirmation, the code).
_pages_limit = limiter.shared_limit(_limit("JOIN_PAGE_LIMIT"), scope="join-pages")


def _typed() -> dict[str, str]:
    """What the person typed, to show again (control characters dropped)."""
    return {k: without_controls(request.form.get(k, ""))[:200] for k in service.FORM_FIELDS}


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _form(raw: dict, errors: dict | None = None, notice: str = "", status: int = 200):
    config = current_app.config
    page = render_template(
        "join/form.html",
        raw=raw,
        errors=errors or {},
        notice=notice,
        notice_bad=status >= 400,
        choices=service.form_choices(),
        consent=request.form.get("privacy_consent") == "1",
        retention_days=config.get("RETENTION_DAYS"),  # None: retention is off, say nothing
        pending_days=config.get("RETENTION_PENDING_DAYS") if config.get("RETENTION_DAYS") else None,
        hotline=config["EMERGENCY_PHONE"],
    )
    return page, status


@bp.get("/join")
@_pages_limit
def form():
    chosen = service.preset(request.args.get("county"), request.args.get("pickup"))
    raw = {"county": chosen.county.id if chosen.county else ""}
    raw["pickup_point"] = chosen.pickup.id if chosen.pickup else ""
    return _form(raw)


@bp.post("/join")
@checks_its_own_text  # an error on the field, what was typed kept
@limiter.limit(_limit("JOIN_SUBMIT_LIMIT"))
def submit():
    sub = service.Submission(
        fields=request.form,
        code=without_controls(request.form.get("code", ""))[:20],
        consent=request.form.get("privacy_consent") == "1",
        client_ip=request.remote_addr or "",
    )
    outcome = service.register(sub, utcnow(), current_app.config)
    if outcome.errors:
        notice = _("Please correct the fields marked below.")
        # a code not spent (another field was wrong) stays typed in: it was cleared, and had to
        # be typed again from the SMS
        kept = {} if "code" in outcome.errors else {"code": sub.code}
        return _form({**_typed(), **kept}, outcome.errors, notice, 422)
    return redirect(url_for(".done"), 303)


@bp.post("/join/code")
@checks_its_own_text
@limiter.limit(_limit("JOIN_CODE_LIMIT"))
def code():
    phone = without_controls(request.form.get("phone", ""))[:30]
    config, gateway = current_app.config, current_app.extensions["sms_gateway"]
    try:
        service.send_code(phone, request.remote_addr or "", utcnow(), config, gateway)
    except service.BadPhone as bad:
        return _code_answer(str(bad), 422, {"phone": str(bad)})
    except verification.TooMany as many:
        return _code_answer(_too_many(many), 429, retry_after=many.retry_after_s)
    sent = _("The code is on its way by SMS: type it below. It is valid 5 minutes.")
    return _code_answer(sent, wait=int(config["VERIFY_CODE_INTERVAL_S"]))


def _too_many(many: verification.TooMany) -> str:
    if many.scope == "interval":
        return many.too_soon()
    minutes = many.retry_after_minutes
    if many.scope == "number":
        return _(
            "This number has been sent too many codes. Try again in %(n)d minutes, or phone the "
            "hotline.",
            n=minutes,
        )
    return _(
        "Too many codes were asked for from this network. Try again in %(n)d minutes.", n=minutes
    )


def _code_answer(
    message: str, status: int = 200, errors: dict | None = None, retry_after=0, wait=0
):
    """``retry_after``: seconds until a refused request may be made again; ``wait``: until the
    next code after one sent (the button's countdown)."""
    if _wants_json():
        body = {"message": message, "fields": errors or {}, "retry_after": retry_after}
        body["wait"] = wait
        response = jsonify(body)
        response.status_code = status
    else:
        response = Response(*_form(_typed(), errors, message, status))
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.get("/join/done")
@_pages_limit
def done() -> str:
    return render_template("join/done.html", hotline=current_app.config["EMERGENCY_PHONE"])


@bp.get("/join/qr.svg")
@_pages_limit
def qr_svg() -> Response:
    chosen = service.preset(request.args.get("county"), request.args.get("pickup"))
    url = join_poster.join_url(current_app.config["PUBLIC_BASE_URL"], chosen.query())
    response = Response(join_poster.qr_svg(url), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/join/poster.pdf")
@limiter.limit(_limit("JOIN_POSTER_LIMIT"))
def poster_pdf() -> Response:
    chosen = service.preset(request.args.get("county"), request.args.get("pickup"))
    config = current_app.config
    url = join_poster.join_url(config["PUBLIC_BASE_URL"], chosen.query())
    html = render_template(
        "join/poster.html",
        preset=chosen,
        url=url,
        qr=join_poster.qr_svg(url, scale=10, inline=True),
        hotline=config["EMERGENCY_PHONE"],
        bureau=config["BUREAU_NAME"],
        css=join_poster.poster_css(),
    )
    try:
        data = join_poster.poster_pdf(html, config["CHROMIUM_PATH"])
    except manifest_export.PdfUnavailable as error:
        current_app.logger.warning("poster PDF unavailable: %s", error)
        abort(503, _("The PDF cannot be made on this server; print the QR code image instead."))
    response = Response(data, mimetype="application/pdf")
    name = f"join-poster-{chosen.pickup.id if chosen.pickup else 'all'}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@bp.errorhandler(429)
def _throttled(error):
    """Flask-Limiter's refusal, in the page's language and form (the JSON the script reads)."""
    message = _("Too many requests from this network. Please wait a few minutes and try again.")
    if _wants_json():
        return jsonify({"message": message, "fields": {}, "retry_after": 60}), 429
    if request.method == "POST" and request.path in ("/join", "/join/code"):
        return _form(_typed(), {}, message, 429)
    return render_template("error.html", code=429, error=error, message=message), 429
