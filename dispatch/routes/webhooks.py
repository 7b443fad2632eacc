"""Twilio webhooks: delivery status callbacks and inbound replies (CONTRACTS.md §5)."""

from __future__ import annotations

from flask import Blueprint

from dispatch.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)
