"""Who must not be sent to, and what a provider's refusal or a reply says about a number."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, Worker

UNSUBSCRIBED = {"21610"}
# 21211/21614: not a valid (mobile) number at creation; 30005/30006: unknown handset or
# landline, reported later by the status callback.
# Aliyun: isv.MOBILE_NUMBER_ILLEGAL, from SendSms or in a receipt's ErrCode. (Carriers' own
# receipt codes mix "no such number" with "switched off", so none of them marks a number.)
INVALID_NUMBER = {"21211", "21614", "30005", "30006", "isv.MOBILE_NUMBER_ILLEGAL"}
# Opt-out replies (DOMAIN.md): 回T退订 and the newer 拒收请回复R, plus the English STOP.
OPT_OUT_WORDS = {"stop", "t", "td", "退订", "r", "拒收"}
_TRAILING = " \t\r\n.。!！"

# Why a row was not sent, stored in ``error_code`` (the page shows it in the reader's
# language); ``error_message`` keeps the English text for logs and the API.
NO_CONSENT = "refused:consent"
OPTED_OUT = "refused:opt_out"
NUMBER_INVALID = "refused:invalid"
NUMBER_CHANGED = "refused:number"
PROVIDER_REFUSED = "refused:provider"


def reason_not_to_send(message: OutboundMessage) -> str | None:
    """Why this row must not go out (consent, opt-out, bad or changed number), or None."""
    refusal = refusal_not_to_send(message)
    return refusal[1] if refusal else None


def refusal_not_to_send(message: OutboundMessage) -> tuple[str, str] | None:
    """(code, English text) of why this row must not go out, or None."""
    worker = message.worker
    if worker is None:  # drivers and other non-worker recipients carry no consent record
        return None
    if message.to_phone != worker.phone:
        return NUMBER_CHANGED, "number changed since this notice was written; publish it again"
    return refusal_with_code(worker)


def refusal_of(worker: Worker) -> str | None:
    """Why a worker must not be sent SMS at all (consent, opt-out, invalid number), or None."""
    refusal = refusal_with_code(worker)
    return refusal[1] if refusal else None


def refusal_with_code(worker: Worker) -> tuple[str, str] | None:
    """(code, English text) of why a worker must not be sent SMS at all, or None."""
    if not worker.sms_consent:
        return NO_CONSENT, "worker gave no consent to notification SMS"
    if worker.opted_out_at is not None:
        return OPTED_OUT, f"worker opted out ({worker.opt_out_source or 'unknown source'})"
    if worker.phone_invalid_at is not None:
        return NUMBER_INVALID, "number marked invalid (cannot receive SMS)"
    return None


def apply_provider_error(worker: Worker | None, code: str | None, now: datetime) -> None:
    """Record an opt-out (21610) or a bad number (INVALID_NUMBER) on the worker."""
    if worker is None or code is None:
        return
    if code in UNSUBSCRIBED and worker.opted_out_at is None:
        worker.opted_out_at, worker.opt_out_source = now, "provider"
    elif code in INVALID_NUMBER and worker.phone_invalid_at is None:
        worker.phone_invalid_at = now


def is_opt_out_reply(body: str) -> bool:
    """Whether a reply means "stop": STOP, T, TD, 退订… trimmed, any case, full-width too."""
    word = unicodedata.normalize("NFKC", body).strip(_TRAILING).casefold()
    return word in OPT_OUT_WORDS


def record_opt_out_reply(from_phone: str, body: str, now: datetime) -> int:
    """Opt out every worker on ``from_phone`` if ``body`` asks to stop; return how many."""
    if not from_phone or not is_opt_out_reply(body):
        return 0
    workers = db.session.scalars(
        select(Worker).where(Worker.phone == from_phone, Worker.opted_out_at.is_(None))
    ).all()
    for worker in workers:
        worker.opted_out_at, worker.opt_out_source = now, "sms"
    db.session.flush()
    return len(workers)
