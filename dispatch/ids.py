"""Row ids from the outside world (URLs, forms, files): only those a row can have.

Pure; anything may import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

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


IN_LIST = 500  # values per IN (…): far below PostgreSQL's 65,535 parameters and SQLite's 32,766


def batched(items: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items, for IN lists and multi-row INSERTs
    (itertools.batched, which comes with Python 3.12)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
