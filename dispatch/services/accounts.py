"""Accounts, roles, county scopes and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import ROLES, ApiToken, County, User, utcnow

TOKEN_PREFIX = "dsp_"


class AccountError(ValueError):
    """A request about accounts that cannot be carried out."""


def generate_password() -> str:
    """A random password that is easy to read out and type."""
    return secrets.token_urlsafe(12)


def create_user(
    username: str, role: str, password: str, county_ids: Iterable[str] = (), display_name: str = ""
) -> User:
    """Create a user; coordinators must have at least one county."""
    county_ids = list(county_ids)
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if db.session.scalar(select(User).filter_by(username=username)):
        raise AccountError(f"user {username!r} already exists")
    if role == "coordinator" and not county_ids:
        raise AccountError("a coordinator needs at least one --county")
    if len(password) < 8:
        raise AccountError("the password needs at least 8 characters")
    user = User(username=username, role=role, display_name=display_name or username)
    user.set_password(password)
    user.counties = _counties(county_ids)
    db.session.add(user)
    db.session.flush()
    return user


def _counties(ids: list[str]) -> list[County]:
    found = db.session.scalars(select(County).where(County.id.in_(ids))).all() if ids else []
    missing = sorted(set(ids) - {c.id for c in found})
    if missing:
        raise AccountError(f"unknown county: {', '.join(missing)}")
    return list(found)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User) -> str:
    """Issue an API token for ``user``; the clear token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_hash(token), prefix=token[:10]))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """The active user behind a bearer token, or None."""
    row = db.session.scalar(select(ApiToken).filter_by(token_hash=_hash(token), revoked_at=None))
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user
