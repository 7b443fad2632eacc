"""Dates as people write them in forms and sheets: 2026-03-01, 2026/3/1, 2026.3.1,
2026年3月1日, 20260301, full-width digits, and a spreadsheet's date cells."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

# 2026年3月1日 (the day's 日 often left out), as county offices write dates in their sheets.
CHINESE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")


def parse_date(raw: Any) -> date | None:
    """ISO dates; 2026/3/1, 2026.3.1, 2026年3月1日, 20260301 and spreadsheet date cells too
    (full-width digits as well). None when empty; ValueError if bad."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    number = int(raw) if isinstance(raw, float) and raw.is_integer() else raw
    value = unicodedata.normalize("NFKC", "" if number is None else str(number)).strip()
    if not value:
        return None
    chinese = CHINESE_DATE.fullmatch(value)
    if chinese:
        parts = list(chinese.groups())
    elif len(value) == 8 and value.isdigit():
        parts = [value[:4], value[4:6], value[6:]]
    else:
        parts = value.replace("/", "-").replace(".", "-").split(" ")[0].split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(value)
    if any(len(p) > 4 for p in parts):  # 99999999999-01-01: a year too large for the C date
        raise ValueError(value)
    return date(int(parts[0]), int(parts[1]), int(parts[2]))
