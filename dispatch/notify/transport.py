"""What an HTTP failure says about a send, for the backends that call their provider through
requests (twilio_backend.py, aliyun_backend.py): did the request surely never leave?"""

from __future__ import annotations

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    SSLError,
)

# Failures that happen before a byte of the request reaches the provider.
_BEFORE_SENDING = (
    ConnectTimeoutError,
    NewConnectionError,
    NameResolutionError,
    SSLError,
    ProxyError,
)


def never_sent(error: BaseException | None) -> bool:
    """Whether ``error`` came before the request left (no connection, or none in time): the
    provider surely has nothing, so the message may be sent again."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, _BEFORE_SENDING)
