"""The worker's own ticket, public (CONTRACTS.md §5, ``GET /ticket``): ID number and mobile,
an SMS code, then the journey, the QR e-ticket and withdrawal; no account and no script.

An opened ticket lives TICKET_SESSION_MINUTES in the session (this worker only) and every
answer says ``no-store``, so a shared browser keeps no ticket once the worker taps 退出.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from dispatch.extensions import db, limiter
from dispatch.models import utcnow
from dispatch.services import tickets, verification
from dispatch.web import select_locale

bp = Blueprint("ticket", __name__, url_prefix="/ticket")
OPENED, PENDING = "ticket_opened", "ticket_pending"  # session keys


def _limit() -> str:
    return f"{current_app.config['TICKET_REQUESTS_PER_MINUTE']} per minute"


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.errorhandler(429)
def _throttled(_error) -> tuple[str, int]:
    """Flask-Limiter's refusal, in the worker's words, on the page they were on."""
    return _lookup(
        error=_("Too many tries from this phone. Wait a few minutes and try again.")
    ), 429


@bp.errorhandler(400)
def _refused(error) -> tuple[str, int]:
    """A form left open for hours (CSRF) or text no database stores: start again."""
    if isinstance(error, CSRFError) or error.description == type(error).description:
        return _lookup(error=_("This page was open too long. Please fill it in again.")), 400
    return _lookup(error=error.description), 400


def _lookup(*, error: str = "", errors: dict[str, str] | None = None) -> str:
    """The first step: ID number and mobile (what was typed is kept on an error)."""
    values = {k: request.form.get(k, "") for k in ("id_number", "phone")}
    return render_template(
        "ticket/lookup.html",
        error=error,
        errors=errors or {},
        values=values,
        hotline=current_app.config["EMERGENCY_PHONE"],
    )


def _opened_worker() -> int | None:
    """The worker whose ticket this browser opened, while it is fresh."""
    value = session.get(OPENED)
    max_age = current_app.config["TICKET_SESSION_MINUTES"] * 60
    if not isinstance(value, dict) or not isinstance(value.get("worker"), int):
        return None
    if not isinstance(value.get("at"), int) or time.time() - value["at"] > max_age:
        session.pop(OPENED, None)
        return None
    return value["worker"]


@bp.get("")
def show() -> Response | str | tuple[str, int]:
    worker_id = _opened_worker()
    if worker_id is None:
        return _lookup()
    ticket = tickets.ticket_of(worker_id, utcnow(), current_app.config, select_locale())
    if ticket is None:
        session.pop(OPENED, None)
        return redirect(url_for(".show"))
    return render_template("ticket/show.html", ticket=ticket)


@bp.post("/code")
@limiter.limit(_limit)
def code() -> Response | tuple:
    try:
        lookup = tickets.parse_lookup(
            request.form.get("id_number", ""), request.form.get("phone", "")
        )
        pending, outgoing = tickets.request_code(
            lookup, request.remote_addr or "", utcnow(), current_app.config
        )
    except tickets.LookupInvalid as error:
        return _lookup(errors=error.errors), 400
    except verification.TooMany as error:
        minutes = error.retry_after_minutes
        message = _("Too many codes asked for. Try again in %(n)d minutes.", n=minutes)
        if error.scope == "interval":
            message = error.too_soon()
        return _lookup(error=message), 429, {"Retry-After": str(error.retry_after_s)}
    session.pop(OPENED, None)
    session[PENDING] = pending
    response = redirect(url_for(".verify"))
    sending = threading.Thread(
        target=_send(current_app._get_current_object(), outgoing), name="ticket-code", daemon=True
    )
    sending.start()
    response.call_on_close(sending.join)
    return response


def _send(app: Flask, outgoing: verification.Outgoing | None) -> Callable[[], None]:
    """The code's SMS (nothing when the lookup matched no worker), sent beside the answer, in
    a thread of its own: a gateway takes a few hundred milliseconds, and a stranger must not
    read from the wait that the ID number and mobile belong to a worker, so both answers start
    one. The server closing the answer waits for it (a test client, gunicorn). It used to be
    sent only then, and the development server (`make run`) sometimes never closed an answer
    to Chromium: the code stayed "sending" and never went. The row is committed ``sending``;
    if this process dies first it becomes ``unknown`` (notify/immediate.py) and the worker
    asks again."""

    def send() -> None:
        if outgoing is None:
            return
        with app.app_context():
            try:
                outgoing.send(app.extensions["sms_gateway"])
            except Exception:  # the answer is out: log it, as the tick logs a failed send
                app.logger.exception("verification SMS %s not sent", outgoing.message_id)

    return send


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def verify() -> Response | str | tuple[str, int]:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return redirect(url_for(".show"))
    phone = tickets.pending_phone(pending)
    if request.method == "GET":
        return render_template("ticket/verify.html", phone=phone, wrong=False)
    worker_id = tickets.open_ticket(
        pending, request.form.get("code", ""), utcnow(), current_app.config
    )
    if worker_id is None:
        return render_template("ticket/verify.html", phone=phone, wrong=True), 400
    session.pop(PENDING, None)
    session[OPENED] = {"worker": worker_id, "at": int(time.time())}
    return redirect(url_for(".show"))


@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def withdraw() -> Response | str:
    worker_id = _opened_worker()
    if worker_id is None:
        return redirect(url_for(".show"))
    if request.method == "GET":
        ticket = tickets.ticket_of(worker_id, utcnow(), current_app.config, select_locale())
        if ticket is None or not ticket.can_withdraw:
            return redirect(url_for(".show"))
        return render_template("ticket/withdraw.html", ticket=ticket)
    try:
        tickets.withdraw(worker_id, utcnow(), current_app.config, request.remote_addr or "")
    except tickets.CannotWithdraw:
        flash(_("The bus has left or you are on it: please call the hotline."), "error")
        return redirect(url_for(".show"))
    except tickets.TryAgain:
        flash(_("Your bus was being changed at the same moment. Please try again."), "error")
        return redirect(url_for(".withdraw"))
    db.session.commit()
    flash(_("Your trip is cancelled and your seat is freed for someone else."), "success")
    return redirect(url_for(".show"))


@bp.post("/exit")
def exit_ticket() -> Response:
    session.pop(OPENED, None)
    session.pop(PENDING, None)
    flash(_("You have left your ticket. Nobody using this phone after you can see it."), "success")
    return redirect(url_for(".show"))
