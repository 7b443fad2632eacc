"""Accounts, roles, county scopes, login sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from functools import cache

from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.extensions import db
from dispatch.models import ADMIN, COORDINATOR, ROLES, ApiToken, County, User, utcnow
from dispatch.services import audit

TOKEN_PREFIX = "dsp_"
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; ``code`` picks the page's message."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def generate_password() -> str:
    """A random password that is easy to read out and type."""
    return secrets.token_urlsafe(12)


def create_user(
    username: str, role: str, password: str, county_ids: Iterable[str] = (), display_name: str = ""
) -> User:
    """Create a user; coordinators must have at least one county."""
    county_ids = list(county_ids)
    username = username.strip()
    if not username or len(username) > 40:
        raise AccountError("the username needs 1 to 40 characters", "username")
    if db.session.scalar(select(User).filter_by(username=username)):
        raise AccountError(f"user {username!r} already exists", "exists")
    _check_role(role, county_ids)
    _check_password(password)
    user = User(username=username, role=role, display_name=(display_name or username)[:60])
    user.set_password(password)
    user.counties = _counties(county_ids)
    db.session.add(user)
    db.session.flush()
    return user


def _check_role(role: str, county_ids: list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}", "role")
    if role == COORDINATOR and not county_ids:
        raise AccountError("a coordinator needs at least one --county", "no_county")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("the password needs at least 8 characters", "short_password")


def _counties(ids: list[str]) -> list[County]:
    found = db.session.scalars(select(County).where(County.id.in_(ids))).all() if ids else []
    missing = sorted(set(ids) - {c.id for c in found})
    if missing:
        raise AccountError(f"unknown county: {', '.join(missing)}", "county")
    return list(found)


# --- Logging in ----------------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    """A hash to check unknown usernames against, so they cost as much time as known ones."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None; the same work either way."""
    user = db.session.scalar(select(User).filter_by(username=username.strip()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def user_for_session(session_id: str) -> User | None:
    """The active user a login session's id ("<user id>:<session version>") still belongs to."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None  # a session from before versions, or a forged one
    user = db.session.get(User, int(user_id)) if len(user_id) < 10 else None
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


# --- Managing accounts (the admin's users page) ----------------------------------------


def search_users(q: str = "") -> list[User]:
    """Users whose username or name contains ``q``, admins first."""
    query = select(User).order_by(User.active.desc(), User.role, User.username)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    return list(db.session.scalars(query))


def change_access(user: User, role: str, county_ids: Iterable[str], by: User) -> None:
    """Give ``user`` a new role and county scope; the last active admin keeps the admin role."""
    county_ids = list(county_ids) if role == COORDINATOR else []
    _check_role(role, county_ids)
    if user.role == ADMIN and role != ADMIN:
        _keep_an_admin(user)
    before = {"role": user.role, "counties": sorted(c.id for c in user.counties)}
    user.role, user.counties = role, _counties(county_ids)
    user.end_sessions()  # pages open under the old role should not keep it
    audit.record(
        by,
        "user.access",
        "user",
        user.id,
        {"before": before, "after": {"role": role, "counties": sorted(county_ids)}},
    )


def set_active(user: User, active: bool, by: User) -> None:
    """Disable (ending sessions and revoking tokens) or re-enable an account."""
    if not active and user.role == ADMIN:
        _keep_an_admin(user)
    user.active = active
    if not active:
        user.end_sessions()
        revoked = _revoke_all_tokens(user)
        audit.record(by, "user.disable", "user", user.id, {"tokens_revoked": revoked})
    else:
        audit.record(by, "user.enable", "user", user.id)


def _keep_an_admin(user: User) -> None:
    others = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == ADMIN, User.active, User.id != user.id)
    )
    if not others:
        raise AccountError("the last active admin must stay an active admin", "last_admin")


def reset_password(user: User, by: User) -> str:
    """A new one-time password for ``user``, shown once; every session of theirs ends."""
    password = generate_password()
    change_password(user, password)
    audit.record(by, "user.password_reset", "user", user.id)
    return password


def change_password(user: User, password: str) -> None:
    """Set a new password and end the sessions opened with the old one."""
    _check_password(password)
    user.set_password(password)
    user.end_sessions()


def log_out_everywhere(user: User) -> None:
    """Logging out ends this user's sessions, the copied cookies of them included."""
    user.end_sessions()
    audit.record(user, "user.logout", "user", user.id)


# --- API tokens ------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, label: str = "", by: User | None = None) -> str:
    """Issue an API token for ``user``; the clear token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_hash(token), prefix=token[:10], label=label[:60])
    db.session.add(row)
    db.session.flush()
    if by is not None:
        audit.record(
            by, "token.create", "api_token", row.id, {"user": user.username, "label": row.label}
        )
    return token


def live_tokens(user: User) -> list[ApiToken]:
    """The tokens of ``user`` that still work, newest first."""
    query = (
        select(ApiToken).filter_by(user_id=user.id, revoked_at=None).order_by(ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def revoke_token(user: User, token_id: int, by: User) -> bool:
    """Revoke one of ``user``'s tokens; False when there is no such live token."""
    row = db.session.scalar(
        select(ApiToken).filter_by(id=token_id, user_id=user.id, revoked_at=None)
    )
    if row is None:
        return False
    row.revoked_at = utcnow()
    audit.record(by, "token.revoke", "api_token", row.id, {"user": user.username})
    return True


def _revoke_all_tokens(user: User) -> int:
    tokens = live_tokens(user)
    for row in tokens:
        row.revoked_at = utcnow()
    return len(tokens)


def user_for_token(token: str) -> User | None:
    """The active user behind a bearer token, or None."""
    row = db.session.scalar(select(ApiToken).filter_by(token_hash=_hash(token), revoked_at=None))
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user
