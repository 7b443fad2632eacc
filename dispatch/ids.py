"""Row ids from the outside world (URLs, forms, files): only those a row can have.

Pure; anything may import it.
"""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1  # PostgreSQL's integer: a larger id is no row's (and overflows SQLite at 2^63)


def parse_id(value: object) -> int | None:
    """An id from a query, form field or cell ("42", 42), or None when it is no id a row can
    have (not ASCII digits, 0, or past MAX_ID: PostgreSQL would answer "integer out of range")."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,10}", value.strip()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
