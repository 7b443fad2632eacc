"""An operator's coach list (车牌号, 车型 or 核定座位数, 运输企业, drivers, 道路运输证) from Excel/CSV.

The preview names each bad row and field like the worker import; the commit adds new coaches
and drivers and updates changed ones, so importing the same list again changes nothing.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Coach, CoachType, Driver, User
from dispatch.services import fleet, fleet_fields
from dispatch.services.sheet_files import read_table
from dispatch.services.worker_columns import header_field, header_key, totals_row
from dispatch.services.worker_sheets import ImportFileError, Table

HEADERS = {
    "plate": ("车牌号", "车牌", "车牌号码", "号牌号码", "plate"),
    "coach_type": ("车型", "车辆类型", "coach_type"),
    "seats": ("核定座位数", "核定座位", "座位数", "核定载客", "核定载客数", "seats"),
    "operator": (
        "运输企业",
        "客运企业",
        "所属企业",
        "运输公司",
        "企业名称",
        "所属公司",
        "公司名称",
        "承运企业",
        "承运单位",
        "operator",
    ),
    "driver1": (
        "驾驶员1",
        "驾驶员一",
        "司机1",
        "主驾",
        "主驾驶员",
        "驾驶员1姓名",
        "主驾姓名",
        "主驾驶员姓名",
        "driver1",
    ),
    "driver1_phone": (
        "驾驶员1电话",
        "驾驶员1手机",
        "驾驶员一电话",
        "司机1电话",
        "主驾电话",
        "主驾手机",
        "主驾手机号",
        "主驾联系电话",
        "driver1_phone",
    ),
    "driver2": (
        "驾驶员2",
        "驾驶员二",
        "司机2",
        "副驾",
        "副驾驶员",
        "驾驶员2姓名",
        "副驾姓名",
        "副驾驶员姓名",
        "driver2",
    ),
    "driver2_phone": (
        "驾驶员2电话",
        "驾驶员2手机",
        "驾驶员二电话",
        "司机2电话",
        "副驾电话",
        "副驾手机",
        "副驾手机号",
        "副驾联系电话",
        "driver2_phone",
    ),
    "certificate_no": ("道路运输证号", "运输证号", "道路运输证", "certificate_no"),
    "certificate_expires": (
        "有效期至",
        "有效期",
        "运输证有效期",
        "道路运输证有效期至",
        "证件有效期",
        "有效日期",
        "certificate_expires",
    ),
}
ALIASES = {header_key(a): key for key, names in HEADERS.items() for a in names}
HEADER_SEARCH_ROWS = 10
MAX_AGE_S = 24 * 3600


@dataclass
class CoachRow:
    row: int  # as the spreadsheet numbers it
    status: str  # new, changed, unchanged, error
    plate: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class FleetReport:
    rows: list[CoachRow]
    header_row: int = 1

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


@dataclass(frozen=True)
class CommitResult:
    added: int
    changed: int
    unchanged: int
    drivers_added: int


def preview(filename: str, data: bytes) -> FleetReport:
    """Read and check the list; writes nothing."""
    table = read_table(filename, data)
    header_row, columns = _layout(table)
    seen: set[str] = set()
    rows = []
    for index, cells in enumerate(table.rows[header_row:], start=header_row + 1):
        raw = {key: _cell(cells, col, table) for key, col in columns.items()}
        if all(v in (None, "") for v in raw.values()):
            continue
        if totals_row(cells):
            continue  # 合计 / 6辆: the operator's total, no coach
        rows.append(_check_row(index, raw, seen))
    return FleetReport(rows, header_row)


def _layout(table: Table) -> tuple[int, dict[str, int]]:
    for number, cells in enumerate(table.rows[:HEADER_SEARCH_ROWS], start=1):
        columns = {}
        for col, title in enumerate(cells):
            key = header_field(ALIASES, title)
            if key and key not in columns:
                columns[key] = col
        if "plate" in columns:
            if "coach_type" not in columns and "seats" not in columns:
                raise ImportFileError(_("The list needs a column 车型 or 核定座位数."))
            return number, columns
    raise ImportFileError(
        _("No header row with 车牌号 found in the first %(n)d rows.", n=HEADER_SEARCH_ROWS)
    )


def _cell(cells: tuple, col: int, table: Table) -> Any:
    value = cells[col] if col < len(cells) else None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _check_row(number: int, raw: dict[str, Any], seen: set[str]) -> CoachRow:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, check in CHECKS.items():
        try:
            values[key] = check(raw)
        except ValueError as error:
            errors[key] = str(error)
    plate = values.get("plate", "")
    if plate and plate in seen:
        errors["plate"] = _("This plate is on an earlier row of the list already.")
    seen.add(plate)
    if errors:
        return CoachRow(number, "error", plate or str(raw.get("plate") or ""), errors, values)
    return CoachRow(number, _status(values), plate, {}, values)


def _coach_type(raw: dict[str, Any]) -> str:
    text = str(raw.get("coach_type") or "").strip()
    types = db.session.scalars(select(CoachType).where(CoachType.active)).all()
    for t in types:
        if text and text in (t.id, t.name):
            return t.id
    seats = re.search(r"\d+", text) or re.search(r"\d+", str(raw.get("seats") or ""))
    for t in types:
        if seats and int(seats[0]) == t.rated_seats:
            return t.id
    raise ValueError(
        _(
            "Unknown coach type “%(value)s”: give 车型 as one of %(types)s, or 核定座位数.",
            value=text or str(raw.get("seats") or ""),
            types="、".join(t.name for t in types),
        )
    )


def _driver(n: int):
    def check(raw: dict[str, Any]) -> dict[str, str] | None:
        name = str(raw.get(f"driver{n}") or "").strip()
        phone = str(raw.get(f"driver{n}_phone") or "").strip()
        if not name and not phone:
            return None
        if not name:
            raise ValueError(_("The driver's name is missing."))
        return {"name": fleet_fields.text(40, True)(name), "phone": fleet_fields.mobile(phone)}

    return check


def _expires(raw: dict[str, Any]) -> str | None:
    value = raw.get("certificate_expires")
    if isinstance(value, int) and 20000 < value < 80000:  # an Excel date number
        value = date(1899, 12, 30) + timedelta(days=value)
    day = fleet_fields.expiry(value)
    return day.isoformat() if day else None


CHECKS = {
    "plate": lambda raw: fleet_fields.plate(raw.get("plate")),
    "coach_type": _coach_type,
    "operator": lambda raw: fleet_fields.text(80)(raw.get("operator")),
    "driver1": _driver(1),
    "driver2": _driver(2),
    "certificate_no": lambda raw: fleet_fields.text(40)(raw.get("certificate_no")),
    "certificate_expires": _expires,
}


def _status(values: dict[str, Any]) -> str:
    coach = db.session.scalar(select(Coach).filter_by(plate=values["plate"]))
    if coach is None:
        return "new"
    return "unchanged" if _same(coach, values) else "changed"


def _same(coach: Coach, values: dict[str, Any]) -> bool:
    expires = coach.certificate_expires.isoformat() if coach.certificate_expires else None
    current = (coach.coach_type_id, coach.operator, coach.certificate_no, expires)
    wanted = (
        values["coach_type"],
        values["operator"] or coach.operator,
        values["certificate_no"] or coach.certificate_no,
        values["certificate_expires"] or expires,
    )
    return current == wanted and all(
        _same_driver(getattr(coach, f"driver{n}"), values[f"driver{n}"]) for n in (1, 2)
    )


def _same_driver(driver: Driver | None, wanted: dict[str, str] | None) -> bool:
    return wanted is None or (driver is not None and driver.phone == wanted["phone"])


def commit(report: FleetReport, user: User | None) -> CommitResult:
    """Write the good rows: new coaches added, changed ones updated, the same ones left alone."""
    counts = {"new": 0, "changed": 0, "unchanged": 0, "drivers": 0}
    for row in report.rows:
        if row.status == "error":
            continue
        coach = db.session.scalar(select(Coach).filter_by(plate=row.values["plate"]))
        if coach is not None and _same(coach, row.values):
            counts["unchanged"] += 1
            continue
        data = _coach_data(row.values, user, counts)
        fleet.save("coach", coach, data, user, partial=True)
        counts["new" if coach is None else "changed"] += 1
    return CommitResult(counts["new"], counts["changed"], counts["unchanged"], counts["drivers"])


def _coach_data(
    values: dict[str, Any], user: User | None, counts: dict[str, int]
) -> dict[str, Any]:
    data = {"plate": values["plate"], "coach_type": values["coach_type"]}
    for key in ("operator", "certificate_no", "certificate_expires"):
        if values[key]:
            data[key] = values[key]
    for n in (1, 2):
        if values[f"driver{n}"]:
            data[f"driver{n}_id"] = _find_or_add_driver(
                values[f"driver{n}"], values["operator"], user, counts
            ).id
    return data


def _find_or_add_driver(
    wanted: dict[str, str], operator: str, user: User | None, counts: dict[str, int]
) -> Driver:
    driver = db.session.scalar(
        select(Driver).filter_by(phone=wanted["phone"]).order_by(Driver.id).limit(1)
    )
    if driver is not None:
        return driver
    counts["drivers"] += 1
    return fleet.save("driver", None, {**wanted, "operator": operator}, user, partial=True)


def store(folder: Path, report: FleetReport) -> str:
    """Keep a checked preview until it is confirmed; returns its token."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        if old.stat().st_mtime < datetime.now().timestamp() - MAX_AGE_S:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    (folder / f"{token}.json").write_text(
        json.dumps(asdict(report), ensure_ascii=False), encoding="utf-8"
    )
    return token


def claim(folder: Path, token: str) -> FleetReport | None:
    """The preview, taken so that a second confirmation finds nothing (renaming is atomic)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{10,40}", token or ""):
        return None
    claimed = folder / f"{token}.claimed"
    try:
        (folder / f"{token}.json").rename(claimed)
    except OSError:
        return None
    data = json.loads(claimed.read_text(encoding="utf-8"))
    claimed.unlink(missing_ok=True)
    return FleetReport([CoachRow(**r) for r in data["rows"]], data["header_row"])
