"""People who use the system, their API tokens, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.extensions import db
from dispatch.models.reference import County
from dispatch.models.types import UTCDateTime, utcnow

ADMIN = "admin"
COORDINATOR = "coordinator"
VIEWER = "viewer"
ROLES = (ADMIN, COORDINATOR, VIEWER)

user_county = Table(
    "user_county",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("county_id", ForeignKey("county.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """An admin, a coordinator scoped to counties, or a viewer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12), default=VIEWER)
    phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of the login session's id: raising it (log out, new password, disabled) ends
    # every session and remember cookie issued before.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    counties: Mapped[list[County]] = relationship(secondary=user_county, order_by=County.id)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the id a session cookie carries
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember cookie of this user."""
        self.session_version = (self.session_version or 1) + 1

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def can_edit(self) -> bool:
        return self.role in (ADMIN, COORDINATOR)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def county_ids(self) -> set[str] | None:
        """Counties this user may see; None means all of them."""
        if self.role == COORDINATOR:
            return {c.id for c in self.counties}
        return None


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(60), default="", server_default="")  # what it is for
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """Who did what to which object, and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # e.g. worker.create, worker.export
    object_type: Mapped[str] = mapped_column(String(20), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str] = mapped_column(String(45), default="")

    user: Mapped[User | None] = relationship()
