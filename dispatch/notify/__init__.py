"""Sending SMS, and nothing else: what to say and when is decided in dispatch.services.notices.

- ``gateway.py``: the SmsGateway interface, the console backend and the registry that picks
  a backend from SMS_BACKEND (loading a provider's module only when configured);
  ``twilio_backend.py`` and ``aliyun_backend.py``: the one module that imports each
  provider's SDK; ``transport.py``: whether a failed HTTP call surely never left.
- ``outbox.py``: the outbox rows' claims, expiry and stale sends; ``sending.py``: the send
  loop (screen, pace, send at most once, retry what surely was not sent); ``immediate.py``:
  one row sent inside the request that wrote it (verification codes); ``receipts.py``:
  delivery receipts read by polling.
- ``writer.py``: writing drafts into the outbox exactly once; ``segments.py``: SMS segments.
- ``callbacks.py``: the provider's status callbacks and inbound replies;
  ``suppression.py``: consent, opt-outs and refused numbers; ``carrier_limits.py``: the
  carriers' limits per number and day; ``quiet_hours.py``: the quiet window as pure time logic.

Anything in dispatch may import notify; notify imports only dispatch.models and
dispatch.extensions (never services, routes or jobs).
"""
