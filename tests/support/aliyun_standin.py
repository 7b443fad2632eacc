"""A stand-in for Alibaba Cloud's Dysmsapi (2017-05-25) on loopback, for tests and the bench.

It speaks what the official SDK sends: POST / with the action in ``x-acs-action`` and the
parameters in the query string, signed ACS3-HMAC-SHA256 (checked here: a wrong secret gets
SignatureDoesNotMatch, as from Aliyun). SendSms and QuerySendDetails answer JSON as Aliyun
does. What SendSms does is scripted per number (national form, ``behaviours``):

- "ok" (default): accepted, a BizId returned, the message recorded in ``sent``;
- an Aliyun business code ("isv.BUSINESS_LIMIT_CONTROL", "isv.MOBILE_NUMBER_ILLEGAL", …):
  HTTP 200 with that Code, nothing sent;
- "throttle": HTTP 400 Throttling.User; "http500"/"http503": the platform answers 5xx
  after taking the message (recorded in ``sent``: such an answer says nothing either way);
- "stall": accepted and recorded, but the answer comes only after ``stall_s`` (the client's
  read timeout fires first, as on a slow network after Aliyun took the message).

Receipts: ``report(biz_id, "delivered" | "failed", err_code)``; until then QuerySendDetails
says SendStatus 1 (waiting). ``queries`` records each QuerySendDetails.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

from tests.support.loopback import JsonHandler, LoopbackServer

BEIJING = ZoneInfo("Asia/Shanghai")
SEND_STATUS = {"waiting": 1, "failed": 2, "delivered": 3}
HTTP_ERRORS = {
    "throttle": (400, "Throttling.User", "Request was denied due to user flow control."),
    "http500": (
        500,
        "InternalError",
        "The request processing has failed due to some unknown error.",
    ),
    "http503": (503, "ServiceUnavailable", "The request has failed due to a temporary failure."),
}


class _Handler(JsonHandler):
    content_type = "application/json;charset=utf-8"
    ascii_only = False

    def answer(self) -> None:
        standin: AliyunStandIn = self.owner
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        problem = self._signature_problem(standin, parts.path, query, body)
        if problem is not None:
            return self.send_json(*problem)
        action = self.headers.get("x-acs-action", "")
        if action == "SendSms":
            return self.send_json(*standin.send_sms(query))
        if action == "QuerySendDetails":
            return self.send_json(*standin.query_send_details(query))
        self.send_json(404, _answer("InvalidAction.NotFound", f"no action {action!r}"))

    def _signature_problem(
        self, standin: AliyunStandIn, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, object]] | None:
        """ACS3-HMAC-SHA256, as Aliyun checks it; None when the request is genuine."""
        fields = dict(
            item.split("=", 1)
            for item in self.headers.get("Authorization", "")
            .removeprefix("ACS3-HMAC-SHA256 ")
            .split(",")
            if "=" in item
        )
        if fields.get("Credential") != standin.access_key_id:
            return 404, _answer("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        payload = hashlib.sha256(body).hexdigest()
        names = fields.get("SignedHeaders", "").split(";")
        headers = "".join(f"{n}:{(self.headers.get(n) or '').strip()}\n" for n in names)
        canonical_query = "&".join(f"{k}={quote(v, safe='~')}" for k, v in sorted(query.items()))
        request = f"POST\n{path or '/'}\n{canonical_query}\n{headers}\n{';'.join(names)}\n{payload}"
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(request.encode()).hexdigest()
        expected = hmac.new(standin.access_key_secret.encode(), to_sign.encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), fields.get("Signature", "")):
            return 400, _answer("SignatureDoesNotMatch", "Specified signature does not match.")
        return None


class AliyunStandIn(LoopbackServer):
    """Start with ``start()``, stop with ``stop()`` (or use as a context manager)."""

    handler = _Handler

    def __init__(
        self,
        access_key_id: str = "LTAI-test-key",
        access_key_secret: str = "test-secret",
        behaviours: dict[str, str] | None = None,
        stall_s: float = 3.0,
        delay_s: float = 0.0,
    ) -> None:
        super().__init__()
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.behaviours = dict(behaviours or {})
        self.stall_s = stall_s
        self.delay_s = delay_s  # network and API latency per accepted message
        self.sent: list[dict[str, str]] = []  # messages Aliyun would deliver (and bill)
        self.attempts: Counter[str] = Counter()  # SendSms requests per number, sent or not
        self.queries: list[dict[str, str]] = []  # QuerySendDetails requests
        self.receipts: dict[str, tuple[str, str | None, datetime | None]] = {}
        self._ids = itertools.count(1)
        # The stand-in's clock (what SendDate and ReceiveDate say); tests set it to their NOW.
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def sent_to(self, number: str) -> list[dict[str, str]]:
        """Messages accepted for ``number`` (E.164 or national)."""
        national = number.removeprefix("+86")
        with self.lock:
            return [s for s in self.sent if s["PhoneNumbers"] == national]

    def duplicates(self) -> dict[str, int]:
        """OutIds accepted more than once (must stay empty: each outbox row once)."""
        with self.lock:
            counts = Counter(s["OutId"] for s in self.sent)
        return {out_id: n for out_id, n in counts.items() if n > 1}

    def report(
        self, biz_id: str, status: str, err_code: str | None = None, at: datetime | None = None
    ) -> None:
        """The carrier's word on a message: "delivered" or "failed" (with ``err_code``)."""
        with self.lock:
            self.receipts[biz_id] = (status, err_code, at or self.now())

    def send_sms(self, query: dict[str, str]) -> tuple[int, dict[str, object]]:
        number = query.get("PhoneNumbers", "")
        with self.lock:
            self.attempts[number] += 1
        behaviour = self.behaviours.get(number, "ok")
        missing = [k for k in ("PhoneNumbers", "SignName", "TemplateCode") if not query.get(k)]
        if missing:
            return 400, _answer(f"Missing{missing[0]}", f"{missing[0]} is mandatory")
        if behaviour.startswith(("isv.", "isp.")):
            return 200, _answer(behaviour, "refused by the stand-in")
        biz_id = f"{next(self._ids):06d}^{abs(hash(number)) % 10**10:010d}"
        with self.lock:
            self.sent.append({**query, "BizId": biz_id, "At": self.now().isoformat()})
        if self.delay_s:
            self.closing.wait(self.delay_s)
        if behaviour in HTTP_ERRORS:
            status, code, text = HTTP_ERRORS[behaviour]
            return status, _answer(code, text)
        if behaviour == "stall":
            self.closing.wait(self.stall_s)
        return 200, {**_answer("OK", "OK"), "BizId": biz_id}

    def query_send_details(self, query: dict[str, str]) -> tuple[int, dict[str, object]]:
        with self.lock:
            self.queries.append(query)
            found = [
                s
                for s in self.sent
                if s["PhoneNumbers"] == query.get("PhoneNumber")
                and s["BizId"] == query.get("BizId", s["BizId"])
                and _beijing_day(s["At"]) == query.get("SendDate")
            ]
            details = [self._detail(s) for s in found]
        size, page = int(query.get("PageSize") or 10), int(query.get("CurrentPage") or 1)
        answer = _answer("OK", "OK")
        listed = details[(page - 1) * size : page * size]
        answer.update(TotalCount=len(details), SmsSendDetailDTOs={"SmsSendDetailDTO": listed})
        return 200, answer

    def _detail(self, sent: dict[str, str]) -> dict[str, object]:
        status, err_code, at = self.receipts.get(sent["BizId"], ("waiting", None, None))
        detail: dict[str, object] = {
            "PhoneNum": sent["PhoneNumbers"],
            "SendStatus": SEND_STATUS[status],
            "ErrCode": err_code or ("DELIVERED" if status == "delivered" else ""),
            "TemplateCode": sent["TemplateCode"],
            "Content": sent.get("TemplateParam", ""),
            "SendDate": _beijing(datetime.fromisoformat(sent["At"])),
            "OutId": sent.get("OutId", ""),
        }
        if at is not None and status != "waiting":
            detail["ReceiveDate"] = _beijing(at)
        return detail


def _answer(code: str, message: str) -> dict[str, object]:
    return {"RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "Code": code, "Message": message}


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _beijing_day(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y%m%d")
