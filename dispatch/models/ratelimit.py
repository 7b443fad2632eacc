"""Rate-limit counters kept in the database, so that every web process sees the same counts."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db


class RateLimitCounter(db.Model):
    """Hits on one limiter key in its current fixed window; the row is reused once it expires."""

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # Unix time the window ends
