"""Fleet form and API fields: raw form text or JSON value in, stored value out.

Each parser raises ValueError with the message a person reads under the field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import PhoneError, normalise_mobile
from dispatch.ids import parse_id
from dispatch.models import DROPOFF, PICKUP, CoachType, County, Driver, Operator, Site
from dispatch.services.dates import parse_date
from dispatch.services.worker_fields import find_county

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE = re.compile(rf"^([{PROVINCES}])([A-Z])([A-HJ-NP-Z0-9]{{5,6}})$")
CHINA = ((18.0, 53.6), (73.5, 135.1))  # lat, lon bounds of mainland China and Hainan
WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
LANDLINE = re.compile(r"^[0-9+][0-9 -]{6,19}$")


def canonical_plate(raw: str) -> str:
    """A Chinese plate in one stored form, 晋L·A1234; raises ValueError if it is none."""
    text = unicodedata.normalize("NFKC", str(raw or "")).upper()
    text = re.sub(r"[\s·•．.\-]", "", text)
    match = PLATE.match(text)
    if not match:
        raise ValueError(text)
    return f"{match[1]}{match[2]}·{match[3]}"


def text(limit: int, required: bool = False) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = unicodedata.normalize("NFC", str(value if value is not None else "")).strip()
        if required and not text:
            raise ValueError(_("This field is required."))
        if len(text) > limit:
            raise ValueError(_("At most %(n)d characters.", n=limit))
        return text

    return parse


def plate(value: Any) -> str:
    try:
        return canonical_plate(value)
    except ValueError:
        raise ValueError(
            _(
                "Not a Chinese plate: a province character, a letter and 5 characters "
                "(6 for new-energy coaches), e.g. 晋L·A1234."
            )
        ) from None


def mobile(value: Any) -> str:
    try:
        return normalise_mobile(str(value or ""))
    except PhoneError:
        raise ValueError(_("Enter a mainland mobile number of 11 digits.")) from None


def phone(value: Any) -> str:
    raw = str(value or "").strip()
    if not raw:
        return ""
    try:
        return normalise_mobile(raw)
    except PhoneError:
        if LANDLINE.match(raw):
            return raw
        raise ValueError(_("Enter a mobile number or a landline such as 0357-1234567.")) from None


def day(value: Any) -> date | None:
    """A date as the worker sheets take it (services/dates.py): 2027-05-01, 2027/5/1,
    2027年5月1日, a spreadsheet's date cell."""
    try:
        return parse_date(value)
    except ValueError:
        raise ValueError(_("Enter a date such as 2026-12-31.")) from None


def expiry(value: Any) -> date | None:
    """A certificate's expiry date: one already past is refused (the holder may not drive)."""
    when = day(value)
    if when is not None and when < today():
        raise ValueError(
            _("This certificate expired on %(day)s: enter the renewed one.", day=when.isoformat())
        )
    return when


def today() -> date:
    """Today in Linfen."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def number(low: float, high: float, integer: bool = False) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        try:
            number = int(str(value).strip()) if integer else float(str(value).strip())
        except ValueError:
            raise ValueError(_("Enter a number.")) from None
        if not low <= number <= high:
            raise ValueError(_("Enter a number from %(low)s to %(high)s.", low=low, high=high))
        return number

    return parse


def lat(value: Any) -> float:
    degrees = number(-90, 90)(value)
    if not CHINA[0][0] <= degrees <= CHINA[0][1]:
        raise ValueError(_("This point is outside China: latitude in decimal degrees, e.g. 36.08."))
    return degrees


def lon(value: Any) -> float:
    degrees = number(-180, 180)(value)
    if not CHINA[1][0] <= degrees <= CHINA[1][1]:
        raise ValueError(
            _("This point is outside China: longitude in decimal degrees, e.g. 111.52.")
        )
    return degrees


def window(value: Any) -> str:
    raw = str(value or "").strip().replace("–", "-").replace("~", "-").replace(" ", "")
    if raw and not WINDOW.match(raw):
        raise ValueError(_("Enter a time window such as 06:30-07:30."))
    return raw


def site_id(value: Any) -> str:
    raw = str(value or "").strip().lower()
    if not SITE_ID.match(raw):
        raise ValueError(_("2 to 40 lower-case letters, digits or dashes, e.g. js-kunshan."))
    return raw


def site_kind(value: Any) -> str:
    if value not in (PICKUP, DROPOFF):
        raise ValueError(_("Choose pickup point or destination."))
    return str(value)


def flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "on", "yes", "是")


def row(model: type, label: Callable[[], str]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value in (None, ""):
            return None
        key = parse_id(value) if model in (Driver, Operator) else value
        row = db.session.get(model, key) if key is not None else None
        if row is None:
            raise ValueError(label())
        return row

    return parse


def required(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        result = parse(value)
        if result is None:
            raise ValueError(_("This field is required."))
        return result

    return check


def operator(value: Any) -> Operator | None:
    """An operator by id or name; an unknown name makes a new operator (the import and API do this)."""
    raw = str(value or "").strip()
    if not raw:
        return None
    number = parse_id(raw)
    found = db.session.get(Operator, number) if number else None
    found = found or db.session.scalar(select(Operator).filter_by(name=raw))
    if found is None:
        found = Operator(name=text(80, True)(raw))
        db.session.add(found)
    return found


def county(value: Any) -> County | None:
    """A pickup point's county, as a worker's county is read (洪洞县, 洪洞, hongtong)."""
    raw = str(value or "").strip()
    if not raw:
        return None
    found = find_county(raw)
    if found is None:
        raise ValueError(_("Unknown county: use one of Linfen's 17 counties and districts."))
    return found


coach_type = required(row(CoachType, lambda: _("Unknown coach type.")))
driver = row(Driver, lambda: _("Unknown driver."))
depot = row(Site, lambda: _("Unknown pickup point."))
destination = required(row(Site, lambda: _("Unknown destination.")))
