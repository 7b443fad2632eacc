"""Cleaning worker fields (CONTRACTS.md §6): one set of rules for the form, the API and imports."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from dispatch.extensions import db
from dispatch.identity import IdNumberError, PhoneError, normalise_mobile, parse_id_number
from dispatch.models import DROPOFF, PICKUP, CoachType, County, Employer, Site, Worker
from dispatch.services.dates import parse_date
from dispatch.services.place_names import find_place, name_key

FIELDS = (
    "name",
    "id_number",
    "phone",
    "county",
    "township",
    "pickup_point",
    "destination",
    "employer",
    "earliest_date",
    "latest_date",
    "group",
    "sms_consent",
    "notes",
)
HEADERS_ZH = {
    "姓名": "name",
    "身份证号": "id_number",
    "手机号": "phone",
    "户籍县区": "county",
    "乡镇村": "township",
    "上车点": "pickup_point",
    "目的地": "destination",
    "用工单位": "employer",
    "最早出发日期": "earliest_date",
    "最晚出发日期": "latest_date",
    "同行组": "group",
    "短信通知": "sms_consent",
    "备注": "notes",
}
FIELD_LABELS_ZH = {v: k for k, v in HEADERS_ZH.items()}
MIN_AGE = 16
FIRST_YEAR, LAST_YEAR = 2020, 2099  # a departure outside these years is a typing slip
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")  # 1.41081199201e+17: a number, digits lost
YES = {"是", "true", "1", "yes", "y", "on", "t"}
NO = {"否", "false", "0", "no", "n", "off", "f"}


class NumericCell:
    """A cell a spreadsheet stored as a number, when the field must be text."""

    def __init__(self, value: float | int) -> None:
        self.value = value


@dataclass
class Lookups:
    """Reference data a worker's fields are matched against, loaded once per request or file."""

    counties: dict[str, County]
    pickups: dict[str, Site]
    destinations: dict[str, Site]
    employers: dict[tuple[str, str], Employer]
    employers_by_id: dict[int, Employer]
    max_group_size: int
    scope: set[str] | None = None  # counties the user may register; None: all
    memo: dict = field(default_factory=dict, repr=False)  # (kind, text) → match, per file

    @classmethod
    def load(cls, scope: set[str] | None = None, keep: Worker | None = None) -> Lookups:
        """Active sites and employers only; ``keep``'s current ones too, though deactivated since."""
        counties = db.session.scalars(select(County)).all()
        held = {keep.pickup_site_id, keep.destination_site_id} if keep is not None else set()
        sites = db.session.scalars(
            select(Site).where(or_(Site.active.is_(True), Site.id.in_(held)))
        ).all()
        employer_id = keep.employer_id if keep is not None else None
        employers = db.session.scalars(
            select(Employer).where(or_(Employer.active.is_(True), Employer.id == employer_id))
        ).all()
        seats = db.session.scalar(select(func.max(CoachType.rated_seats - CoachType.crew_seats)))
        return cls(
            counties=_index(counties, _county_keys),
            pickups=_index([s for s in sites if s.kind == PICKUP], _site_keys),
            destinations=_index([s for s in sites if s.kind == DROPOFF], _site_keys),
            employers={(e.site_id, name_key(e.name)): e for e in employers},
            employers_by_id={e.id: e for e in employers},
            max_group_size=seats or 51,
            scope=scope,
        )

    def county(self, given: str) -> County | None:
        """A county by id or name, also as 洪洞, 临汾市洪洞县 or 临汾市洪洞县甘亭镇 (an address)."""
        return self._memo("county", given, lambda: find_place(self.counties, given, prefix=True))

    def pickup(self, given: str) -> Site | None:
        return self._memo("pickup", given, lambda: find_place(self.pickups, given))

    def destination(self, given: str) -> Site | None:
        """A drop-off site by id or name, also as 昆山, 江苏昆山 or 昆山市 when unambiguous."""
        return self._memo("destination", given, lambda: find_place(self.destinations, given))

    def _memo(self, kind: str, given: str, find):
        key = (kind, given)
        if key not in self.memo:
            self.memo[key] = find()
        return self.memo[key]


def _site_keys(site: Site) -> tuple[str, ...]:
    return (site.id, site.name_zh, site.name_en)


def _index(items, keys) -> dict:
    return {name_key(k): item for item in items for k in keys(item) if k}


def _county_keys(county: County) -> tuple[str, ...]:
    return (county.id, county.name_zh, county.name_en)


def find_county(given: str) -> County | None:
    """A county as a worker's field takes it (Lookups.county), outside a file's lookups: by id
    or name, also as 洪洞 or 临汾市洪洞县."""
    counties = db.session.scalars(select(County)).all()
    return find_place(_index(counties, _county_keys), given, prefix=True)


@dataclass
class Cleaned:
    """Column values for a Worker, and errors by field (messages in the user's language)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def text(raw: Any) -> str:
    """A cell or form value as stripped text ('' for empty)."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return (
        unicodedata.normalize("NFKC", str(raw)).strip() if not isinstance(raw, str) else raw.strip()
    )


def clean_worker(raw: Mapping[str, Any], lookups: Lookups) -> Cleaned:
    """Validate one worker's fields; every error names its field."""
    out = Cleaned()
    raw, unreadable = _without_control_characters(raw)
    _clean_name(raw, out)
    _clean_identity(raw, out)
    _clean_phone(raw, out)
    _clean_places(raw, lookups, out)
    _clean_dates(raw, out)
    _clean_rest(raw, lookups, out)
    out.errors.update(unreadable)
    return out


# Cc: control characters (NUL, escape...), Cs: lone surrogates, which no database can store.
REFUSED_CATEGORIES = ("Cc", "Cs")


def has_control_characters(value: str) -> bool:
    """True when ``value`` holds a control character or half of a surrogate pair."""
    return any(unicodedata.category(char) in REFUSED_CATEGORIES for char in value)


def without_controls(value: str) -> str:
    """``value`` with control characters and lone surrogates removed (search boxes, filters)."""
    return "".join(c for c in value if unicodedata.category(c) not in REFUSED_CATEGORIES)


def _without_control_characters(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields with notes' tabs and line breaks tidied, and errors for any other control
    character: those fields are left out, so that no other rule judges them."""
    fields, errors = dict(raw), {}
    if isinstance(fields.get("notes"), str):
        notes = fields["notes"].replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        fields["notes"] = notes
    for key, value in raw.items():
        if not isinstance(value, str):
            continue
        inner = fields[key].strip() if key != "notes" else fields[key].replace("\n", "")
        if has_control_characters(inner):
            errors[key] = _("Contains invisible control characters: type this field again.")
            fields[key] = ""
    return fields, errors


# Spaces a sheet puts inside a Chinese name to line names up (王　建国, 周 涛): between two
# Han characters a space is never part of the name; the manifest and the SMS print it as typed.
SPACE_IN_NAME = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def _clean_name(raw: Mapping[str, Any], out: Cleaned) -> None:
    name = SPACE_IN_NAME.sub("", text(raw.get("name")).replace("\u3000", " "))
    if not name:
        out.errors["name"] = _("Name is required.")
    elif len(name) > 40:
        out.errors["name"] = _("Name is too long (at most 40 characters).")
    out.values["name"] = name


def _clean_identity(raw: Mapping[str, Any], out: Cleaned) -> None:
    value = raw.get("id_number")
    if isinstance(value, NumericCell | int | float) and not isinstance(value, bool):
        out.errors["id_number"] = _(
            "The ID number arrived as a number and its last digits are lost: "
            "format the ID column as text and enter it again."
        )
        return
    value = text(value)
    if SCIENTIFIC.match(value):
        value = NumericCell(0)
        return _clean_identity({"id_number": value}, out)
    if not value:
        out.errors["id_number"] = _("ID number is required.")
        return
    try:
        identity = parse_id_number(value)
    except IdNumberError as error:
        out.errors["id_number"] = _id_message(error.code)
        return
    out.values.update(id_number=identity.value, birth_date=identity.birth_date, sex=identity.sex)


def _id_message(code: str) -> str:
    if code == "checksum":
        return _("The ID number's check character is wrong: check every digit.")
    if code == "birth_date":
        return _("The ID number contains an impossible birth date.")
    return _("An ID number has 18 characters: 17 digits and a digit or X.")


def _clean_phone(raw: Mapping[str, Any], out: Cleaned) -> None:
    value = text(raw.get("phone"))
    if not value:
        out.errors["phone"] = _("Mobile number is required.")
        return
    try:
        out.values["phone"] = normalise_mobile(value)
    except PhoneError as error:
        out.errors["phone"] = (
            _("This is a landline or not a mobile number; SMS needs a mobile number.")
            if error.code == "not_mobile"
            else _("Not a valid mainland China mobile number (11 digits starting 13–19).")
        )


def clean_mobile(value: str) -> Cleaned:
    """One mobile number by the form's rule (the self-service pages' code requests)."""
    out = Cleaned()
    _clean_phone({"phone": value}, out)
    return out


def _clean_places(raw: Mapping[str, Any], lookups: Lookups, out: Cleaned) -> None:
    county = lookups.county(text(raw.get("county")))
    if county is None and not text(raw.get("county")):
        out.errors["county"] = _("Choose the county of household registration.")
    elif county is None:
        out.errors["county"] = _("Unknown county: use one of Linfen's 17 counties and districts.")
    elif lookups.scope is not None and county.id not in lookups.scope:
        out.errors["county"] = _("You may only register workers of your own counties.")
    else:
        out.values["county_id"] = county.id
    _clean_pickup(raw, lookups, county, out)
    destination = lookups.destination(text(raw.get("destination")))
    if destination is None and not text(raw.get("destination")):
        out.errors["destination"] = _("Choose a destination.")
    elif destination is None:
        names = "、".join(sorted({site.name_zh for site in lookups.destinations.values()}))
        out.errors["destination"] = _("Unknown destination: write one of %(names)s.", names=names)
    else:
        out.values["destination_site_id"] = destination.id
        _clean_employer(raw, lookups, destination, out)


def _clean_pickup(raw: Mapping[str, Any], lookups: Lookups, county, out: Cleaned) -> None:
    given = text(raw.get("pickup_point"))
    if not given:
        if county is not None:
            out.values["pickup_site_id"] = county.default_pickup_id
        return
    pickup = lookups.pickup(given)
    if pickup is None:
        out.errors["pickup_point"] = _("Unknown pickup point.")
    else:
        out.values["pickup_site_id"] = pickup.id


def _clean_employer(raw: Mapping[str, Any], lookups: Lookups, destination: Site, out: Cleaned):
    given = raw.get("employer")
    if given in (None, ""):
        out.values["employer_id"] = None
        return
    employer = None
    if not isinstance(given, int) or isinstance(given, bool):
        employer = lookups.employers.get((destination.id, name_key(text(given))))
    if (
        employer is None and text(given).isdecimal() and len(text(given)) < 10
    ):  # the form's list sends the employer's id
        employer = lookups.employers_by_id.get(int(text(given)))
        employer = employer if employer and employer.site_id == destination.id else None
    if employer is None:
        out.errors["employer"] = _("Unknown employer at this destination.")
    else:
        out.values["employer_id"] = employer.id


def _clean_dates(raw: Mapping[str, Any], out: Cleaned) -> None:
    earliest = _date_field(raw, "earliest_date", out)
    latest = _date_field(raw, "latest_date", out)
    if earliest is None and "earliest_date" not in out.errors:
        out.errors["earliest_date"] = _("Earliest departure date is required.")
    if earliest is None:
        return
    latest = latest or earliest
    if latest < earliest:
        out.errors["latest_date"] = _("The latest date is before the earliest date.")
    birth = out.values.get("birth_date")
    if birth and _age(birth, earliest) < MIN_AGE:
        out.errors["id_number"] = _("Under 16 on the departure date: cannot be registered.")
    out.values.update(earliest_date=earliest, latest_date=latest)


def _date_field(raw: Mapping[str, Any], name: str, out: Cleaned) -> date | None:
    try:
        day = parse_date(raw.get(name))
    except ValueError:
        out.errors[name] = _(
            "“%(value)s” is not a date: write it as 2026-03-01 or 2026年3月1日.",
            value=text(raw.get(name))[:40],
        )
        return None
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        out.errors[name] = _(
            "%(date)s is not a plausible departure date: check the year.", date=day.isoformat()
        )
        return None
    return day


def clean_departure_window(raw: Mapping[str, Any]) -> Cleaned:
    """A departure date or window given for a whole file (both optional)."""
    out = Cleaned()
    earliest = _date_field(raw, "earliest_date", out)
    latest = _date_field(raw, "latest_date", out)
    if latest is not None and earliest is None and not out.errors:
        out.errors["earliest_date"] = _("Give the earliest date as well.")
    elif earliest and latest and latest < earliest:
        out.errors["latest_date"] = _("The latest date is before the earliest date.")
    out.values.update(earliest=earliest, latest=latest)
    return out


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _clean_rest(raw: Mapping[str, Any], lookups: Lookups, out: Cleaned) -> None:
    out.values["township"] = text(raw.get("township"))[:80]
    out.values["notes"] = text(raw.get("notes"))[:2000]
    group = text(raw.get("group"))
    if len(group) > 40:
        out.errors["group"] = _("Group code is too long (at most 40 characters).")
    out.values["group_code"] = group or None
    consent = raw.get("sms_consent")
    if isinstance(consent, bool):
        out.values["sms_consent"] = consent
    elif text(consent).lower() in YES or text(consent) == "":
        out.values["sms_consent"] = True
    elif text(consent).lower() in NO:
        out.values["sms_consent"] = False
    else:
        out.errors["sms_consent"] = _("SMS consent must be 是 or 否.")
