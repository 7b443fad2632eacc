"""Worker rows for the registry's tests: valid rows, spreadsheet builders, lookups, API tokens."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import openpyxl
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.identity import make_id_number
from dispatch.models import AuditEvent, User, Worker
from dispatch.services.accounts import create_token
from dispatch.services.worker_fields import FIELDS

HEADERS = list(FIELDS)  # the import file's columns, in the template's order
HEADERS_ZH = [
    "姓名",
    "身份证号",
    "手机号",
    "户籍县区",
    "乡镇村",
    "上车点",
    "目的地",
    "用工单位",
    "最早出发日期",
    "最晚出发日期",
    "同行组",
    "短信通知",
    "备注",
]


def id_number(n: int, region: str = "141024", born: date = date(1990, 5, 1)) -> str:
    """A valid ID number, distinct for each n (< 1000) and never in the demo data's range."""
    return make_id_number(region, date(born.year, born.month, 1 + n // 999 % 28), n % 999 + 1)


def mobile(n: int) -> str:
    """A valid mobile number (national form), distinct for each n < 10 000."""
    return f"1390357{n:04d}"


def worker_row(n: int = 0, **changes: Any) -> dict[str, Any]:
    """A valid worker in the API's JSON shape (Hongtong to Kunshan)."""
    row = {
        "name": f"测试{n}",
        "id_number": id_number(n),
        "phone": mobile(n),
        "county": "hongtong",
        "township": "洪洞县东关",
        "pickup_point": "",
        "destination": "js-kunshan",
        "employer": "",
        "earliest_date": "2026-03-02",
        "latest_date": "2026-03-03",
        "group": "",
        "sms_consent": "是",
        "notes": "",
    }
    row.update(changes)
    return row


def xlsx_bytes(rows: list[list[Any]], headers: list[str] = HEADERS_ZH) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[Any]], headers: list[str] = HEADERS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def as_cells(row: dict[str, Any]) -> list[Any]:
    return [row[h] for h in HEADERS]


def workers_where(app, **criteria) -> list[Worker]:
    with app.app_context():
        found = db.session.scalars(select(Worker).filter_by(**criteria)).all()
        db.session.expunge_all()
        return list(found)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def worker_count(app) -> int:
    with app.app_context():
        return db.session.query(Worker).count()


def token_for(app, username: str) -> dict[str, str]:
    """Authorization headers carrying a fresh API token of ``username``."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        token = create_token(user)
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def upload_sheet(client, data: bytes, filename: str):
    """The import page's upload, as the browser form sends it."""
    return client.post(
        "/workers/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def preview_sheet(app, data: bytes, filename: str):
    """The import preview of a file (no dates given), inside an app context."""
    from dispatch.services import worker_import
    from dispatch.services.worker_fields import Lookups

    with app.app_context():
        return worker_import.preview(filename, data, Lookups.load())
