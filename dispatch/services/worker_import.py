"""Importing workers from .xlsx and .csv: read, check every row, then write all good rows at once."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from flask_babel import gettext as _
from sqlalchemy import insert, select

from dispatch.extensions import db
from dispatch.models import AuditEvent, User, Worker, utcnow
from dispatch.services import audit
from dispatch.services.worker_fields import FIELDS, HEADERS_ZH, Lookups, NumericCell, clean_worker
from dispatch.services.workers import Candidate, check_groups

REQUIRED = ("name", "id_number", "phone", "county", "destination", "earliest_date")
TEXT_ONLY = ("id_number",)
CHUNK = 900  # stay below SQLite's bound-parameter limit
MAX_ROWS = 50_000  # data rows in one file
MAX_COLUMNS = 64
MAX_UNPACKED_BYTES = 256 * 1024 * 1024


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message says why, in the user's language."""


@dataclass
class RowReport:
    row: int  # as the spreadsheet shows it: the header is row 1
    status: str  # new, existing, error
    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ImportReport:
    rows: list[RowReport]
    written: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def errors(self) -> list[RowReport]:
        return [r for r in self.rows if r.status == "error"]


def preview(filename: str, data: bytes, lookups: Lookups) -> ImportReport:
    """Check every row; write nothing."""
    rows = [
        RowReport(number, "new", text_name(raw), values=raw)
        for number, raw in read_rows(filename, data)
    ]
    candidates = [(report, Candidate(clean_worker(report.values, lookups))) for report in rows]
    _mark_duplicates(candidates)
    check_groups([c for r, c in candidates if r.status == "new"], lookups)
    for report, candidate in candidates:
        if report.status == "new" and not candidate.cleaned.ok:
            report.status, report.errors = "error", candidate.cleaned.errors
        report.values = candidate.cleaned.values if report.status == "new" else {}
    return ImportReport(rows)


def commit(filename: str, data: bytes, lookups: Lookups, user: User | None) -> ImportReport:
    """Check again and write every good row in one transaction (the caller commits)."""
    report = preview(filename, data, lookups)
    good = [r.values for r in report.rows if r.status == "new"]
    now = utcnow()
    for start in range(0, len(good), CHUNK):
        chunk = [
            {**values, "created_at": now, "updated_at": now}
            for values in good[start : start + CHUNK]
        ]
        ids = db.session.execute(insert(Worker).returning(Worker.id), chunk).scalars().all()
        _audit_created(user, ids, now)
    audit.record(user, "worker.import", "file", filename[:40], {"written": len(good)})
    db.session.flush()
    report.written = len(good)
    return report


def _audit_created(user: User | None, ids: list[int], now) -> None:
    if ids:
        rows = [
            {"user_id": user.id if user else None, "action": "worker.create", "object_type": "worker",
             "object_id": str(i), "detail": {"source": "import"}, "remote_addr": "", "at": now}
            for i in ids
        ]  # fmt: skip
        db.session.execute(insert(AuditEvent), rows)


def _mark_duplicates(candidates: list[tuple[RowReport, Candidate]]) -> None:
    """A second row with the same ID number is an error; one already registered is left as is."""
    numbers = [c.cleaned.values.get("id_number") for _r, c in candidates]
    known = _registered({n for n in numbers if n})
    first_row: dict[str, int] = {}
    for (report, _candidate), number in zip(candidates, numbers, strict=True):
        if not number:
            continue
        if number in first_row:
            report.status = "error"
            report.errors = {
                "id_number": _("The same ID number is on row %(row)d.", row=first_row[number])
            }
        elif number in known:
            report.status = "existing"
        first_row.setdefault(number, report.row)


def _registered(numbers: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(numbers)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        found.update(
            db.session.scalars(select(Worker.id_number).where(Worker.id_number.in_(chunk)))
        )
    return found


def text_name(raw: dict[str, Any]) -> str:
    value = raw.get("name")
    return str(value).strip() if value is not None else ""


def read_rows(filename: str, data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows as {field: cell} with their spreadsheet row numbers; empty rows skipped."""
    table = _read_table(filename, data)
    header = next(table, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    columns = _columns(header)
    rows = []
    for number, cells in enumerate(table, start=2):
        if any(c not in (None, "") for c in cells):
            rows.append(
                (
                    number,
                    {key: _cell(key, cells[i] if i < len(cells) else None) for i, key in columns},
                )
            )
    return iter(rows)


def _cell(key: str, value: Any) -> Any:
    if key in TEXT_ONLY and isinstance(value, int | float) and not isinstance(value, bool):
        return NumericCell(value)
    return value


def _columns(header: tuple) -> list[tuple[int, str]]:
    columns = []
    for index, title in enumerate(header):
        name = str(title or "").strip().rstrip("*＊").strip()
        key = name.lower() if name.lower() in FIELDS else HEADERS_ZH.get(name)
        if key:
            columns.append((index, key))
    missing = [HEADERS_ZH_BY_KEY[k] for k in REQUIRED if k not in {k for _i, k in columns}]
    if missing:
        raise ImportFileError(_("Missing columns: %(columns)s.", columns="、".join(missing)))
    return columns


HEADERS_ZH_BY_KEY = {v: k for k, v in HEADERS_ZH.items()}


def _read_table(filename: str, data: bytes) -> Iterator[tuple]:
    name = filename.lower()
    if name.endswith(".csv"):
        return _read_csv(data)
    if name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    raise ImportFileError(_("Upload an .xlsx or .csv file."))


def _read_csv(data: bytes) -> Iterator[tuple]:
    try:
        rows = [tuple(row) for row in csv.reader(io.StringIO(_decode(data)))]
    except csv.Error:  # a cell past the csv module's size limit, a broken quote
        raise ImportFileError(_("The CSV file could not be read: save it again as CSV.")) from None
    if len(rows) > MAX_ROWS + 1:
        raise ImportFileError(
            _("The file has more than %(n)d rows: split it into smaller files.", n=MAX_ROWS)
        )
    return iter(rows)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError(_("The CSV file is neither UTF-8 nor GB18030 text.")) from None


def _read_xlsx(data: bytes) -> Iterator[tuple]:
    _check_archive(data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows = _sheet_rows(book.worksheets[0])
        finally:
            book.close()
    except ImportFileError:
        raise
    except Exception:  # defusedxml refusals, broken parts, not a workbook: all the same to a user
        raise ImportFileError(
            _("The workbook could not be read safely; save it again as .xlsx.")
        ) from None
    return iter(rows)


def _check_archive(data: bytes) -> None:
    """Refuse what is not a zip, and zip bombs, before openpyxl unpacks anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise ImportFileError(_("This is not a real .xlsx workbook.")) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(_("The workbook could not be read safely; save it again as .xlsx."))


def _sheet_rows(sheet) -> list[tuple]:
    # The sheet's declared size is not trusted: a 5 KB file can claim a cell at XFD1048576,
    # and openpyxl would pad a million rows of 16,384 cells to reach it.
    rows = []
    for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
        if len(rows) > MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(n)d rows: split it into smaller files.", n=MAX_ROWS)
            )
        rows.append(row)
    return rows
