"""The Alibaba Cloud SMS backend (Dysmsapi 2017-05-25): the one module in dispatch that
imports the alibabacloud / darabonba SDK (STYLE.md).

Aliyun sends only approved templates: each notice kind maps to a template code
(ALIYUN_SMS_TEMPLATES) and the outbox row's variables go as TemplateParam. A kind without a
code is refused before any request (``TemplateMissing``): the outbox holds it.

SendSms has no idempotency key, so every failure is sorted by one question: could Aliyun
have accepted the message? An answer with a business code (HTTP 200, Code ≠ OK) or a 4xx
means no; a connection that never opened means no; a read timeout or a 5xx after the request
left means perhaps (UnknownOutcome: never resent). The SDK's own retries are off for the same
reason. Receipts are read with QuerySendDetails (notify/receipts.py drives it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import exceptions as api_errors
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from dispatch.notify.carrier_limits import parse_per_number_limits
from dispatch.notify.gateway import (
    OutgoingSms,
    PermanentFailure,
    Receipt,
    SendResult,
    SmsError,
    TemplateMissing,
    TemporaryFailure,
    UnknownOutcome,
    template_codes,
)
from dispatch.notify.segments import count_segments
from dispatch.notify.transport import never_sent

PROVIDER = "aliyun"
# Business codes that say "not now" (nothing was sent): frequency and volume controls, a
# busy or failing platform that answered, and our own account's state (balance, RAM,
# credentials), which a person fixes without touching the message. Retried with backoff.
TEMPORARY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isv.ACCOUNT_ABNORMAL",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isp.RAM_PERMISSION_DENY",
        "isv.DENY_IP_RANGE",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "isv.SYSTEM_ERROR",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidTimeStamp.Expired",
        "SignatureNonceUsed",
        "Forbidden.RAM",
    }
)
# Codes about this message (its number, its template, its variables): sending it again, as
# it is, is refused again. Any other business code is treated the same (it was refused).
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.EXTEND_CODE_ERROR",
        "isv.SMS_TEST_NUMBER_LIMIT",
        "MissingPhoneNumbers",
        "MissingSignName",
        "MissingTemplateCode",
    }
)
SEND_STATUS = {1: "waiting", 2: "failed", 3: "delivered"}  # QuerySendDetails' SendStatus
RECEIPT_PAGE = 50  # QuerySendDetails' largest page
OUT_ID_PAGES = 4  # a number gets far fewer than 200 messages a day (10 by default)


class AliyunGateway:
    """Sends approved templates through Dysmsapi (or a stand-in at ALIYUN_SMS_ENDPOINT)."""

    name = PROVIDER

    def __init__(self, config: Mapping[str, Any]) -> None:
        key, secret = config.get("ALIYUN_ACCESS_KEY_ID"), config.get("ALIYUN_ACCESS_KEY_SECRET")
        if not key or not secret:
            raise ValueError(
                "SMS_BACKEND=aliyun needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET"
            )
        self.sign_name = str(config.get("ALIYUN_SMS_SIGN_NAME") or "")
        if not self.sign_name:
            raise ValueError("SMS_BACKEND=aliyun needs ALIYUN_SMS_SIGN_NAME")
        self.templates = template_codes(config.get("ALIYUN_SMS_TEMPLATES"))
        self.template_kinds = frozenset(self.templates)
        self.per_number_limits = parse_per_number_limits(
            config.get("ALIYUN_SMS_PER_NUMBER_LIMITS", "1/minute,5/hour,10/day")
        )
        self._client = Client(_sdk_config(config, str(key), str(secret)))
        self._runtime = RuntimeOptions(
            connect_timeout=int(float(config.get("ALIYUN_CONNECT_TIMEOUT_S") or 5) * 1000),
            read_timeout=int(float(config.get("ALIYUN_READ_TIMEOUT_S") or 10) * 1000),
            autoretry=False,
            max_attempts=0,
        )

    def send(self, sms: OutgoingSms) -> SendResult:
        """SendSms with the kind's template; raise a SmsError subclass saying what may follow."""
        code = self.templates.get(sms.kind)
        if code is None:
            raise TemplateMissing(f"no approved template configured for {sms.kind!r}", "template")
        request = sms_models.SendSmsRequest(
            phone_numbers=national_number(sms.to),
            sign_name=self.sign_name,
            template_code=code,
            template_param=json.dumps(
                dict(sms.params or {}), ensure_ascii=False, separators=(",", ":")
            ),
            out_id=str(sms.message_id),
        )
        body = self._call(lambda: self._client.send_sms_with_options(request, self._runtime))
        if body.get("Code") != "OK":
            raise _business_refusal(body)
        biz_id = str(body.get("BizId") or "")
        segments = count_segments(sms.body)
        return SendResult(PROVIDER, biz_id, "accepted", segments, polls_receipts=True)

    def query_receipt(
        self, phone: str, sent_on: datetime, biz_id: str | None, out_id: str | None = None
    ) -> Receipt | None:
        """QuerySendDetails for one message (``sent_on``: its send date in China time).

        By ``biz_id`` (a message Aliyun accepted): its receipt, "waiting" while not listed.
        Without one (a message in doubt): the number's messages that day are searched for
        our ``out_id``; None if Aliyun has none (it may yet appear: records lag a little)."""
        if biz_id:
            details = self._details(phone, sent_on, biz_id, 1)
            return _receipt(details[0]) if details else Receipt("waiting")
        for page in range(1, OUT_ID_PAGES + 1):
            details = self._details(phone, sent_on, None, page)
            for detail in details:
                if str(detail.get("OutId") or "") == out_id:
                    return _receipt(detail)
            if len(details) < RECEIPT_PAGE:
                break
        return None

    def _details(
        self, phone: str, sent_on: datetime, biz_id: str | None, page: int
    ) -> list[dict[str, Any]]:
        request = sms_models.QuerySendDetailsRequest(
            phone_number=national_number(phone),
            send_date=sent_on.strftime("%Y%m%d"),
            biz_id=biz_id,
            page_size=RECEIPT_PAGE,
            current_page=page,
        )
        body = self._call(
            lambda: self._client.query_send_details_with_options(request, self._runtime)
        )
        if body.get("Code") != "OK":
            raise _business_refusal(body)
        return list((body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or [])

    def close(self) -> None:
        """Nothing to release: the SDK pools connections per endpoint for the process."""

    def _call(self, call: Any) -> dict[str, Any]:
        try:
            response = call()
        except api_errors.AlibabaCloudException as error:
            raise _http_refusal(error) from error
        except UnretryableException as error:
            raise _transport_failure(error) from error
        except Exception as error:  # an answer we could not read: Aliyun may have sent it
            raise UnknownOutcome(
                f"unreadable answer from Aliyun: {error!r}"[:300], "answer"
            ) from error
        return response.body.to_map() if response.body is not None else {}


def national_number(e164: str) -> str:
    """+8613800138000 -> 13800138000 (Aliyun wants mainland numbers without +86)."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def _sdk_config(config: Mapping[str, Any], key: str, secret: str) -> Config:
    endpoint = str(config.get("ALIYUN_SMS_ENDPOINT") or "dysmsapi.aliyuncs.com")
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    sdk = Config(
        access_key_id=key,
        access_key_secret=secret,
        endpoint=parts.netloc,
        protocol=parts.scheme.upper(),
        region_id="cn-hangzhou",
    )
    sdk.retry_options = RetryOptions({"retryable": False})  # never resend: no idempotency key
    return sdk


def _receipt(detail: Mapping[str, Any]) -> Receipt:
    status = SEND_STATUS.get(int(detail.get("SendStatus") or 1), "waiting")
    error = detail.get("ErrCode") if status == "failed" else None
    return Receipt(status, error or None, detail.get("ReceiveDate") or None)


def _business_refusal(body: Mapping[str, Any]) -> SmsError:
    code = str(body.get("Code") or "unknown")
    text = f"Aliyun refused ({code}): {body.get('Message') or ''}"[:300]
    if code in TEMPORARY_CODES:
        return TemporaryFailure(text, code=code)
    return PermanentFailure(text, code=code)


def _http_refusal(error: api_errors.AlibabaCloudException) -> SmsError:
    """An HTTP error answer: 4xx refused the request; 5xx may have come after acceptance."""
    status = int(getattr(error, "status_code", 0) or 0)
    code = str(getattr(error, "code", None) or status)
    text = f"Aliyun {status} ({code}): {getattr(error, 'message', '') or ''}"[:300]
    if isinstance(error, api_errors.ThrottlingException) or code.startswith("Throttling"):
        return TemporaryFailure(text, code=code)
    if status >= 500:
        # A 5xx (InternalError, ServiceUnavailable…) may come after SendSms reached the SMS
        # platform: in doubt, never resent; a person looks.
        return UnknownOutcome(text, code=code)
    if code in PERMANENT_CODES:
        return PermanentFailure(text, code=code)
    return TemporaryFailure(text, code=code)  # our request or setup, not this message


def _transport_failure(error: UnretryableException) -> SmsError:
    """No answer: temporary if the request never left, unknown if it may have arrived."""
    inner = getattr(error, "inner_exception", None)
    cause = inner.__context__ if isinstance(inner, RetryError) else inner
    if never_sent(cause):
        return TemporaryFailure(f"could not connect to Aliyun: {cause}"[:300], code="connect")
    return UnknownOutcome(f"no answer from Aliyun after sending: {cause or inner}"[:300], "timeout")
