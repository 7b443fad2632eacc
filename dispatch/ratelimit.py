"""A `limits` storage in our own database, for Flask-Limiter: ``RATELIMIT_STORAGE_URI="database://"``.

Several gunicorn workers each keeping counters in memory would each allow the full limit; the
database is the one thing they share (there is no Redis here). Each hit is one atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on SQLite and PostgreSQL alike, in its own short
transaction on the current app's engine, apart from the request's session. Fixed windows only
(Flask-Limiter's default strategy); expired rows are reused by the next hit on their key and
swept out about once a minute.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from dispatch.extensions import db
from dispatch.models.ratelimit import RateLimitCounter

SCHEME = "database"
SWEEP_EVERY_S = 60.0
MAX_KEY = 200
COUNTERS = RateLimitCounter.__table__
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _stored_key(key: str) -> str:
    """Keys carry endpoint names and token hashes; a long one is stored as its hash."""
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_limit_counter`` table of the current app's database."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.clock = clock
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` hits; a window that has ended starts again at ``amount``."""
        now = self.clock()
        with db.engine.begin() as conn:
            count = conn.execute(
                self._upsert(conn, _stored_key(key), now, expiry, amount)
            ).scalar_one()
            if now >= self._next_sweep:
                self._next_sweep = now + SWEEP_EVERY_S
                conn.execute(delete(COUNTERS).where(COUNTERS.c.expires_at < now))
        return count

    @staticmethod
    def _upsert(conn: Connection, key: str, now: float, expiry: int, amount: int):
        insert = INSERTS[conn.dialect.name]
        ended = COUNTERS.c.expires_at <= now
        return (
            insert(COUNTERS)
            .values(key=key, count=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[COUNTERS.c.key],
                set_={  # both read the row as it was before this statement
                    "count": case((ended, amount), else_=COUNTERS.c.count + amount),
                    "expires_at": case((ended, now + expiry), else_=COUNTERS.c.expires_at),
                },
            )
            .returning(COUNTERS.c.count)
        )

    def get(self, key: str) -> int:
        row = self._live_row(key)
        return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._live_row(key)
        return row.expires_at if row else self.clock()

    def _live_row(self, key: str):
        query = select(COUNTERS.c.count, COUNTERS.c.expires_at).where(
            COUNTERS.c.key == _stored_key(key), COUNTERS.c.expires_at > self.clock()
        )
        with db.engine.connect() as conn:
            return conn.execute(query).first()

    def check(self) -> bool:
        try:
            with db.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as conn:
            return conn.execute(delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(COUNTERS).where(COUNTERS.c.key == _stored_key(key)))
