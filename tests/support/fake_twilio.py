"""A Twilio-compatible Messages endpoint on loopback, for tests and the bench.

POST /2010-04-01/Accounts/{sid}/Messages.json with basic auth, answered like Twilio:
201 with the message JSON, or an error JSON. What happens is scripted per destination
number (``behaviours``): "ok" (default), "21211", "21614", "21610", "429", "500", and
"hang" (the message is created, but the answer comes only after ``hang_s``: the client
times out, as on a slow network after Twilio accepted the request).
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from urllib.parse import parse_qs

from tests.support.loopback import JsonHandler, LoopbackServer

PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
ERRORS = {
    "21211": (400, "The 'To' number is not a valid phone number."),
    "21614": (400, "'To' number is not a valid mobile number"),
    "21610": (400, "Attempt to send to unsubscribed recipient"),
    "429": (429, "Too Many Requests"),
    "500": (500, "Internal Server Error"),
}


def _segments(body: str) -> int:
    from dispatch.notify.segments import count_segments

    return count_segments(body)


class _Handler(JsonHandler):
    def answer(self) -> None:
        fake: FakeTwilio = self.owner
        length = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(length)
        if len(data) < length:  # the client died mid-request (a SIGKILLed scheduler): Twilio
            self.close_connection = True  # never gets the whole request, so creates nothing
            return None
        raw = data.decode()
        match = PATH.match(self.path)
        if not match or match["sid"] != fake.account_sid:
            return self.send_json(404, {"code": 20404, "message": "not found", "status": 404})
        if not self._authorised():
            return self.send_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        to = form.get("To", "")
        if not to:  # as Twilio answers a request without a destination
            return self.send_json(
                400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400}
            )
        with fake.lock:
            fake.attempts[to] += 1
        behaviour = fake.behaviours.get(to, "ok")
        if behaviour in ERRORS:
            status, text = ERRORS[behaviour]
            code = int(behaviour) if status == 400 else None
            return self.send_json(status, {"code": code, "message": text, "status": status})
        body = fake.create(form)
        if fake.delay_s:
            fake.closing.wait(fake.delay_s)
        if behaviour == "hang":
            fake.closing.wait(fake.hang_s)
        self.send_json(201, body)

    def _authorised(self) -> bool:
        fake: FakeTwilio = self.owner
        expected = f"{fake.account_sid}:{fake.auth_token}".encode()
        header = self.headers.get("Authorization", "")
        return header == "Basic " + base64.b64encode(expected).decode()


class FakeTwilio(LoopbackServer):
    """Start with ``start()``, stop with ``stop()`` (or use as a context manager)."""

    handler = _Handler

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "test-token",
        behaviours: dict[str, str] | None = None,
        hang_s: float = 3.0,
        delay_s: float = 0.0,
    ) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.behaviours = dict(behaviours or {})
        self.hang_s = hang_s
        self.delay_s = delay_s  # network and API latency per accepted message
        self.created: list[dict[str, str]] = []  # messages Twilio would send (and bill)
        self.attempts: Counter[str] = Counter()  # requests per destination, created or not

    def sent_to(self, number: str) -> int:
        """How many messages were created for ``number``."""
        with self.lock:
            return sum(1 for message in self.created if message["To"] == number)

    def duplicates(self) -> dict[str, int]:
        """Bodies created more than once for the same number (must stay empty)."""
        with self.lock:
            counts = Counter((message["To"], message["Body"]) for message in self.created)
        return {f"{to}: {body[:20]}": n for (to, body), n in counts.items() if n > 1}

    def create(self, form: dict[str, str]) -> dict[str, object]:
        with self.lock:
            number = len(self.created) + 1
            self.created.append(form)
        sid = f"SM{number:032x}"
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body"),
            "status": "queued" if form.get("From") else "accepted",
            "num_segments": str(_segments(form.get("Body", ""))),
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
