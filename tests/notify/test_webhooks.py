"""Twilio webhooks: signatures against the public URL, status ordering, opt-out replies."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from dispatch.extensions import db
from dispatch.jobs.scheduler import run_tick
from dispatch.models import OutboundMessage, Worker
from dispatch.models import messages as m
from tests.support.sms import AUTH_TOKEN, NOW, PUBLIC, add_message, workers

STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"


def post_signed(
    client,
    path: str,
    params: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    signed_url: str | None = None,
    signed_params: dict[str, str] | None = None,
):
    """POST as Twilio would: form params, X-Twilio-Signature over the public URL."""
    url = signed_url or PUBLIC + path
    signature = RequestValidator(token).compute_signature(url, signed_params or params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def _sent_row(app, sid: str = "SM" + "a" * 32, status: str = m.MSG_SENT) -> tuple[int, int]:
    with app.app_context():
        worker = workers(1)[0]
        row = add_message(
            worker,
            status=status,
            provider_sid=sid if status == m.MSG_SENT else None,
            provider_status="queued" if status == m.MSG_SENT else None,
        )
        db.session.commit()
        return row.id, worker.id


def _row(app, message_id: int) -> OutboundMessage:
    db.session.expire_all()
    return db.session.get(OutboundMessage, message_id)


def _callback(message_id: int | str, status: str, sid: str = "SM" + "a" * 32, **extra: str):
    return f"{STATUS}?m={message_id}", {"MessageSid": sid, "MessageStatus": status, **extra}


def test_genuine_delivery_callback_moves_the_row(sms_app):
    message_id, _ = _sent_row(sms_app)
    client = sms_app.test_client()
    path, params = _callback(message_id, "delivered")
    assert post_signed(client, path, params).status_code == 200
    with sms_app.app_context():
        row = _row(sms_app, message_id)
        assert row.status == m.MSG_DELIVERED and row.provider_status == "delivered"
        assert row.delivered_at is not None


@pytest.mark.parametrize(
    "forgery",
    ["wrong token", "no header", "tampered", "internal url", "other message"],
)
def test_forged_callbacks_are_refused_and_change_nothing(sms_app, forgery):
    message_id, _ = _sent_row(sms_app)
    client = sms_app.test_client()
    path, params = _callback(message_id, "failed", ErrorCode="21610")
    if forgery == "wrong token":
        response = post_signed(client, path, params, token="not-the-token")
    elif forgery == "no header":
        response = client.post(path, data=params)
    elif forgery == "tampered":
        response = post_signed(
            client, path, params, signed_params={**params, "MessageStatus": "sent"}
        )
    elif forgery == "internal url":  # what the app sees behind the proxy, not what Twilio called
        response = post_signed(client, path, params, signed_url=f"http://localhost{path}")
    else:  # a genuine signature for another message id, replayed against this one
        response = post_signed(client, path, params, signed_url=f"{PUBLIC}{STATUS}?m=999")
    assert response.status_code == 403
    with sms_app.app_context():
        row = _row(sms_app, message_id)
        assert row.status == m.MSG_SENT and row.worker.opted_out_at is None


def test_statuses_only_move_forward_whatever_the_order(sms_app):
    message_id, _ = _sent_row(sms_app)
    client = sms_app.test_client()
    for status in ["delivered", "sent", "queued", "delivered", "failed", "sending"]:
        path, params = _callback(message_id, status)
        assert post_signed(client, path, params).status_code == 200
    with sms_app.app_context():
        row = _row(sms_app, message_id)
        assert row.status == m.MSG_DELIVERED and row.provider_status == "delivered"


def test_in_order_progress_is_recorded_step_by_step(sms_app):
    message_id, _ = _sent_row(sms_app)
    client = sms_app.test_client()
    seen = []
    for status in ["sending", "sent"]:
        post_signed(client, *_callback(message_id, status))
        with sms_app.app_context():
            seen.append(_row(sms_app, message_id).provider_status)
    assert seen == ["sending", "sent"]


@pytest.mark.parametrize(
    ("code", "flag"), [("30006", "phone_invalid_at"), ("21610", "opted_out_at"), ("30003", None)]
)
def test_undelivered_with_error_code_applies_suppression(sms_app, code, flag):
    message_id, worker_id = _sent_row(sms_app)
    post_signed(sms_app.test_client(), *_callback(message_id, "undelivered", ErrorCode=code))
    with sms_app.app_context():
        row = _row(sms_app, message_id)
        assert row.status == m.MSG_FAILED and row.error_code == code
        worker = db.session.get(Worker, worker_id)
        flagged = {"phone_invalid_at": worker.phone_invalid_at, "opted_out_at": worker.opted_out_at}
        assert {k for k, v in flagged.items() if v is not None} == ({flag} if flag else set())


def test_unknown_ids_and_mismatched_sids_are_answered_and_ignored(sms_app):
    message_id, _ = _sent_row(sms_app)
    client = sms_app.test_client()
    for path, params in [
        _callback(999999, "delivered", sid="SM" + "f" * 32),
        _callback(message_id, "failed", sid="SM" + "b" * 32),  # our id, someone else's sid
        _callback(message_id, "teleported"),
    ]:
        assert post_signed(client, path, params).status_code == 200
    with sms_app.app_context():
        assert _row(sms_app, message_id).status == m.MSG_SENT


@pytest.mark.parametrize("ref", ["abc", "²", "1" * 30, "0", "-1", "1 ", "١٢"])
def test_a_signed_callback_with_a_malformed_id_gets_400_and_changes_nothing(sms_app, ref):
    message_id, _ = _sent_row(sms_app)
    path, params = _callback(quote(ref), "delivered")  # as Twilio calls (and signs) it: encoded
    assert post_signed(sms_app.test_client(), path, params).status_code == 400
    with sms_app.app_context():
        assert _row(sms_app, message_id).status == m.MSG_SENT


def test_fallback_to_message_sid_without_our_id(sms_app):
    message_id, _ = _sent_row(sms_app)
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}
    assert post_signed(sms_app.test_client(), STATUS, params).status_code == 200
    with sms_app.app_context():
        assert _row(sms_app, message_id).status == m.MSG_DELIVERED


def test_a_callback_resolves_an_unknown_outcome(sms_app):
    message_id, _ = _sent_row(sms_app, status=m.MSG_UNKNOWN)
    post_signed(sms_app.test_client(), *_callback(message_id, "delivered", sid="SM" + "c" * 32))
    with sms_app.app_context():
        row = _row(sms_app, message_id)
        assert row.status == m.MSG_DELIVERED and row.provider_sid == "SM" + "c" * 32
        assert row.sent_at is not None


class _CallbackFirstGateway:
    """Twilio's delivered callback reaches the web app before the tick records the send."""

    name = "twilio"

    def __init__(self, inner, client, overtake: int) -> None:
        self.inner, self.client, self.overtake = inner, client, overtake

    def send(self, sms):
        result = self.inner.send(sms)
        if sms.message_id == self.overtake:
            post_signed(
                self.client,
                f"{STATUS}?m={sms.message_id}",
                {"MessageSid": result.provider_sid, "MessageStatus": "delivered"},
            )
        return result


def test_round_trip_and_a_callback_that_overtakes_the_tick(sms_app, fake_twilio):
    from dispatch.notify.outbox import TickOptions
    from dispatch.notify.sending import send_due_messages

    with sms_app.app_context():
        first, second = (add_message(w).id for w in workers(2))
        db.session.commit()
        inner = sms_app.extensions["sms_gateway"]
        racing = _CallbackFirstGateway(inner, sms_app.test_client(), overtake=first)
        assert send_due_messages(racing, NOW, TickOptions()) == {"sent": 2}
        overtaken = _row(sms_app, first)
        assert overtaken.status == m.MSG_DELIVERED and overtaken.provider_sid.startswith("SM")
        assert overtaken.sent_at is not None and overtaken.segments == 1
        assert _row(sms_app, second).status == m.MSG_SENT
    # The callback address sent to Twilio is the one the webhook verifies.
    callback = urlsplit(fake_twilio.created[1]["StatusCallback"])
    assert f"{callback.scheme}://{callback.netloc}" == PUBLIC
    params = {"MessageSid": "SM" + f"{2:032x}", "MessageStatus": "failed", "ErrorCode": "30005"}
    response = post_signed(sms_app.test_client(), f"{callback.path}?{callback.query}", params)
    assert response.status_code == 200
    with sms_app.app_context():
        assert _row(sms_app, second).status == m.MSG_FAILED


@pytest.mark.parametrize("body", ["STOP", " ｓｔｏｐ ", "T", "td", "退订", "退订。", "Ｔ"])
def test_opt_out_replies_are_recorded(sms_app, body):
    with sms_app.app_context():
        worker = workers(1)[0]
        worker_id, phone = worker.id, worker.phone
    response = post_signed(
        sms_app.test_client(), INBOUND, {"From": phone, "Body": body, "MessageSid": "SM1"}
    )
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    with sms_app.app_context():
        worker = db.session.get(Worker, worker_id)
        assert worker.opted_out_at is not None and worker.opt_out_source == "sms"


@pytest.mark.parametrize("body", ["好的", "不退订", "stop it", "谢谢T"])
def test_other_replies_change_nothing(sms_app, body):
    with sms_app.app_context():
        worker = workers(1)[0]
        worker_id, phone = worker.id, worker.phone
    assert (
        post_signed(sms_app.test_client(), INBOUND, {"From": phone, "Body": body}).status_code
        == 200
    )
    with sms_app.app_context():
        assert db.session.get(Worker, worker_id).opted_out_at is None


def test_inbound_from_strangers_or_forged_changes_nothing(sms_app):
    client = sms_app.test_client()
    assert (
        post_signed(client, INBOUND, {"From": "+8613000000001", "Body": "STOP"}).status_code == 200
    )
    with sms_app.app_context():
        phone = workers(1)[0].phone
    forged = post_signed(client, INBOUND, {"From": phone, "Body": "STOP"}, token="guess")
    assert forged.status_code == 403
    with sms_app.app_context():
        assert db.session.query(Worker).filter(Worker.opted_out_at.is_not(None)).count() == 0


def test_opted_out_worker_gets_nothing_more(sms_app, fake_twilio):
    with sms_app.app_context():
        worker = workers(1)[0]
        phone = worker.phone
        add_message(worker, due_at=NOW + timedelta(hours=1))
        db.session.commit()
    post_signed(sms_app.test_client(), INBOUND, {"From": phone, "Body": "退订"})
    assert run_tick(sms_app, NOW + timedelta(hours=1)) == {"suppressed": 1}
    assert fake_twilio.created == []
