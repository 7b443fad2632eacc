"""AliyunGateway through the real Alibaba Cloud SDK against the Dysmsapi stand-in."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from dispatch.notify.aliyun_backend import AliyunGateway, national_number
from dispatch.notify.gateway import (
    OutgoingSms,
    PermanentFailure,
    TemplateMissing,
    TemporaryFailure,
    UnknownOutcome,
    build_gateway,
    template_codes,
)
from tests.support.aliyun import TEMPLATES, aliyun_config
from tests.support.gunicorn import free_port
from tests.support.sms import NOW, console_app_loads

TO = "+8613800138000"
NATIONAL = "13800138000"
PARAMS = {"date": "3月1日", "time": "08:00", "place": "洪洞县人社局", "plate": "晋L·A1234"}


def sms(message_id: int = 7, kind: str = "departure", params: dict | None = None) -> OutgoingSms:
    return OutgoingSms(
        message_id, TO, "【临汾人社】您乘坐的返岗专车……", None, kind, params or PARAMS
    )


@pytest.fixture
def gateway(aliyun) -> AliyunGateway:
    return AliyunGateway(aliyun_config(aliyun))


def test_accepted_message_is_the_kinds_template_with_its_variables(gateway, aliyun):
    result = gateway.send(sms())
    (request,) = aliyun.sent
    assert request["PhoneNumbers"] == NATIONAL  # no +86
    assert request["SignName"] == "临汾人社"
    assert request["TemplateCode"] == TEMPLATES["departure"]
    assert json.loads(request["TemplateParam"]) == PARAMS
    assert request["OutId"] == "7"
    assert result.provider == "aliyun" and result.provider_sid == request["BizId"]
    assert result.polls_receipts and result.segments == 1


@pytest.mark.parametrize(
    "code",
    [
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isp.SYSTEM_ERROR",
    ],
)
def test_limit_balance_and_platform_codes_are_temporary(gateway, aliyun, code):
    aliyun.behaviours[NATIONAL] = code
    with pytest.raises(TemporaryFailure) as caught:
        gateway.send(sms())
    assert caught.value.code == code and aliyun.sent == []


@pytest.mark.parametrize(
    "code",
    [
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.SOMETHING_NEW",  # a business code we do not know: refused, so not resent
    ],
)
def test_codes_about_the_message_are_permanent(gateway, aliyun, code):
    aliyun.behaviours[NATIONAL] = code
    with pytest.raises(PermanentFailure) as caught:
        gateway.send(sms())
    assert caught.value.code == code and aliyun.sent == []


def test_throttling_answer_is_temporary(gateway, aliyun):
    aliyun.behaviours[NATIONAL] = "throttle"
    with pytest.raises(TemporaryFailure) as caught:
        gateway.send(sms())
    assert caught.value.code == "Throttling.User"


@pytest.mark.parametrize("behaviour", ["http500", "http503"])
def test_a_5xx_after_the_request_arrived_is_unknown(gateway, aliyun, behaviour):
    aliyun.behaviours[NATIONAL] = behaviour
    with pytest.raises(UnknownOutcome):
        gateway.send(sms())
    assert len(aliyun.sent_to(TO)) == 1  # the platform had it: resending could send twice


def test_an_answer_that_never_comes_is_unknown_after_the_read_timeout(gateway, aliyun):
    aliyun.behaviours[NATIONAL] = "stall"
    started = time.monotonic()
    with pytest.raises(UnknownOutcome) as caught:
        gateway.send(sms())
    assert time.monotonic() - started < 2.5  # ALIYUN_READ_TIMEOUT_S = 0.5, SDK retries off
    assert caught.value.code == "timeout" and aliyun.attempts[NATIONAL] == 1
    assert len(aliyun.sent_to(TO)) == 1


def test_connection_refused_is_temporary(aliyun):
    port = free_port()  # nobody listens on it
    gateway = AliyunGateway(aliyun_config(aliyun, ALIYUN_SMS_ENDPOINT=f"http://127.0.0.1:{port}"))
    with pytest.raises(TemporaryFailure) as caught:
        gateway.send(sms())
    assert caught.value.code == "connect"


def test_wrong_secret_is_temporary_not_a_verdict_on_the_message(aliyun):
    gateway = AliyunGateway(aliyun_config(aliyun, ALIYUN_ACCESS_KEY_SECRET="wrong"))
    with pytest.raises(TemporaryFailure) as caught:
        gateway.send(sms())
    assert caught.value.code == "SignatureDoesNotMatch" and aliyun.sent == []


def test_a_kind_without_template_is_refused_before_any_request(aliyun):
    templates = {k: v for k, v in TEMPLATES.items() if k != "welfare"}
    gateway = AliyunGateway(aliyun_config(aliyun, ALIYUN_SMS_TEMPLATES=json.dumps(templates)))
    assert "welfare" not in gateway.template_kinds and "departure" in gateway.template_kinds
    with pytest.raises(TemplateMissing):
        gateway.send(sms(kind="welfare"))
    assert sum(aliyun.attempts.values()) == 0


def test_receipts_say_waiting_then_delivered_or_failed(gateway, aliyun):
    accepted = gateway.send(sms()).provider_sid
    assert gateway.query_receipt(TO, NOW, accepted).status == "waiting"
    aliyun.report(accepted, "delivered", at=NOW)
    receipt = gateway.query_receipt(TO, NOW, accepted)
    assert receipt.status == "delivered" and receipt.received_at == "2026-03-01 10:00:00"
    other = gateway.send(sms(8)).provider_sid
    aliyun.report(other, "failed", "isv.MOBILE_NUMBER_ILLEGAL")
    failed = gateway.query_receipt(TO, NOW, other)
    assert failed.status == "failed" and failed.error_code == "isv.MOBILE_NUMBER_ILLEGAL"
    query = aliyun.queries[-1]
    assert query["PhoneNumber"] == NATIONAL and query["SendDate"] == "20260301"
    assert query["BizId"] == other and query["PageSize"] == "50" and query["CurrentPage"] == "1"


def test_a_receipt_asked_for_the_wrong_day_is_not_found_yet(gateway, aliyun):
    accepted = gateway.send(sms()).provider_sid
    aliyun.report(accepted, "delivered", at=NOW)
    assert gateway.query_receipt(TO, datetime(2026, 3, 2), accepted).status == "waiting"


def test_settings_are_checked_at_start_and_parsed(aliyun):
    with pytest.raises(ValueError, match="ALIYUN_ACCESS_KEY_ID"):
        AliyunGateway(aliyun_config(aliyun, ALIYUN_ACCESS_KEY_SECRET=None))
    with pytest.raises(ValueError, match="ALIYUN_SMS_SIGN_NAME"):
        AliyunGateway(aliyun_config(aliyun, ALIYUN_SMS_SIGN_NAME=""))
    with pytest.raises(ValueError, match="1/minute"):
        AliyunGateway(aliyun_config(aliyun, ALIYUN_SMS_PER_NUMBER_LIMITS="1 a minute"))
    with pytest.raises(ValueError, match="JSON object"):
        template_codes("[1, 2]")
    assert template_codes('{"departure": "SMS_1", "welfare": ""}') == {"departure": "SMS_1"}
    assert template_codes(None) == {} and national_number("+8613800138000") == NATIONAL
    limits = AliyunGateway(aliyun_config(aliyun)).per_number_limits
    assert limits == ((1, 60), (5, 3600), (10, 86400))


def test_build_gateway_picks_aliyun(aliyun):
    gateway = build_gateway(aliyun_config(aliyun))
    assert isinstance(gateway, AliyunGateway) and gateway.name == "aliyun"


def test_console_app_never_imports_the_aliyun_sdk(tmp_path):
    assert not console_app_loads(tmp_path, "alibabacloud", "darabonba")
