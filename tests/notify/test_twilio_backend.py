"""TwilioGateway through the real twilio client against a Twilio-compatible server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dispatch.notify.gateway import (
    OutgoingSms,
    PermanentFailure,
    TemporaryFailure,
    UnknownOutcome,
    build_gateway,
)
from dispatch.notify.twilio_backend import TwilioGateway
from tests.support.fake_twilio import FakeTwilio
from tests.support.gunicorn import free_port
from tests.support.sms import PUBLIC, console_app_loads, twilio_config

TO = "+8613800138000"
CHINESE_71 = "【临汾人社】" + "通" * 65  # 71 UCS-2 characters: two segments


@pytest.fixture
def gateway(fake_twilio: FakeTwilio) -> Iterator[TwilioGateway]:
    gateway = TwilioGateway(twilio_config(fake_twilio))
    yield gateway
    gateway.close()


def test_accepted_message_carries_callback_validity_and_segments(gateway, fake_twilio):
    result = gateway.send(OutgoingSms(7, TO, CHINESE_71, validity_s=99999))
    assert result.provider == "twilio" and result.provider_sid.startswith("SM")
    assert result.segments == 2 and isinstance(result.segments, int)
    assert result.status == "queued"
    (form,) = fake_twilio.created
    assert form["To"] == TO and form["Body"] == CHINESE_71 and form["From"] == "+15005550006"
    assert form["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status?m=7"
    assert form["ValidityPeriod"] == "36000"  # clamped to what Twilio accepts


def test_validity_clamped_below_and_omitted_when_none(gateway, fake_twilio):
    gateway.send(OutgoingSms(1, TO, "hello", validity_s=0))
    gateway.send(OutgoingSms(2, TO, "hello again"))
    assert fake_twilio.created[0]["ValidityPeriod"] == "1"
    assert "ValidityPeriod" not in fake_twilio.created[1]


def test_messaging_service_replaces_from(fake_twilio):
    gateway = TwilioGateway(
        twilio_config(fake_twilio, TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32)
    )
    try:
        gateway.send(OutgoingSms(1, TO, "hi"))
    finally:
        gateway.close()
    (form,) = fake_twilio.created
    assert form["MessagingServiceSid"] == "MG" + "2" * 32 and "From" not in form


@pytest.mark.parametrize("code", ["21211", "21614", "21610"])
def test_refusals_about_the_number_are_permanent_with_their_code(gateway, fake_twilio, code):
    fake_twilio.behaviours[TO] = code
    with pytest.raises(PermanentFailure) as caught:
        gateway.send(OutgoingSms(1, TO, "hi"))
    assert caught.value.code == code
    assert fake_twilio.created == []


@pytest.mark.parametrize("behaviour", ["429", "500"])
def test_busy_or_broken_provider_is_temporary(gateway, fake_twilio, behaviour):
    fake_twilio.behaviours[TO] = behaviour
    with pytest.raises(TemporaryFailure):
        gateway.send(OutgoingSms(1, TO, "hi"))
    assert fake_twilio.created == []


def test_wrong_credentials_are_temporary_not_a_verdict_on_the_message(fake_twilio):
    gateway = TwilioGateway(twilio_config(fake_twilio, TWILIO_AUTH_TOKEN="wrong"))
    try:
        with pytest.raises(TemporaryFailure) as caught:
            gateway.send(OutgoingSms(1, TO, "hi"))
    finally:
        gateway.close()
    assert caught.value.code == "20003" and fake_twilio.created == []


def test_answer_that_never_comes_is_unknown_after_the_timeout(gateway, fake_twilio):
    fake_twilio.behaviours[TO] = "hang"
    started = time.monotonic()
    with pytest.raises(UnknownOutcome):
        gateway.send(OutgoingSms(1, TO, "hi"))
    assert time.monotonic() - started < 2.5  # TWILIO_TIMEOUT_S = 0.5 was honoured
    assert fake_twilio.sent_to(TO) == 1  # Twilio did accept it: a retry would send it twice


def test_connection_refused_is_temporary(fake_twilio):
    port = free_port()  # nobody listens on it
    gateway = TwilioGateway(twilio_config(fake_twilio, TWILIO_BASE_URL=f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(TemporaryFailure):
            gateway.send(OutgoingSms(1, TO, "hi"))
    finally:
        gateway.close()


def test_missing_settings_are_refused_at_start(fake_twilio):
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        TwilioGateway(twilio_config(fake_twilio, TWILIO_AUTH_TOKEN=None))
    with pytest.raises(ValueError, match="TWILIO_FROM"):
        TwilioGateway(twilio_config(fake_twilio, TWILIO_FROM=None))


def test_build_gateway_picks_twilio(fake_twilio):
    gateway = build_gateway(twilio_config(fake_twilio))
    try:
        assert isinstance(gateway, TwilioGateway) and gateway.name == "twilio"
    finally:
        gateway.close()


def test_console_app_never_imports_twilio(tmp_path):
    assert not console_app_loads(tmp_path, "twilio")


def test_the_stand_in_creates_nothing_from_a_request_cut_off_by_a_killed_sender(
    gateway, fake_twilio
):
    """A sender SIGKILLed mid-request (tests/ops/test_faults.py) leaves half a body: Twilio never
    receives the whole request, so it creates no message; the next whole one goes through."""
    import base64
    import socket
    from urllib.parse import urlparse

    port = urlparse(fake_twilio.url).port
    path = f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    login = base64.b64encode(f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode())
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {login.decode()}\r\n"
    with socket.create_connection(("127.0.0.1", port)) as cut:
        cut.sendall(f"{head}Content-Length: 200\r\n\r\nTo=%2B86138".encode())
    time.sleep(0.3)  # the stand-in has read what came, up to the closed connection
    gateway.send(OutgoingSms(3, TO, "hello"))
    assert [form["To"] for form in fake_twilio.created] == [TO]
