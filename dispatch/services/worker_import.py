"""Importing workers from .xlsx and .csv: read, check every row, then write all good rows at once."""

from __future__ import annotations

import csv
import io
import json
import xml.parsers.expat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select

from dispatch.extensions import db
from dispatch.models import AuditEvent, User, Worker, utcnow
from dispatch.services import audit
from dispatch.services.worker_fields import (
    FIELDS,
    HEADERS_ZH,
    Cleaned,
    Lookups,
    NumericCell,
    clean_worker,
)
from dispatch.services.workers import Candidate, check_groups

REQUIRED = ("name", "id_number", "phone", "county", "destination", "earliest_date")
TEXT_ONLY = ("id_number",)
DATE_FIELDS = ("earliest_date", "latest_date")
EPOCH_1900 = date(1899, 12, 30)  # Excel's day 0, allowing for its phantom 1900-02-29
EPOCH_1904 = date(1904, 1, 1)
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
    return _check([(report, Candidate(clean_worker(report.values, lookups))) for report in rows], lookups)


def _check(candidates: list[tuple[RowReport, Candidate]], lookups: Lookups) -> ImportReport:
    """The checks that depend on the database and on the other rows: duplicates and groups."""
    _mark_duplicates(candidates)
    check_groups([c for r, c in candidates if r.status == "new"], lookups)
    for report, candidate in candidates:
        if report.status == "new" and not candidate.cleaned.ok:
            report.status, report.errors = "error", candidate.cleaned.errors
        report.values = candidate.cleaned.values if report.status == "new" else {}
    return ImportReport([r for r, _c in candidates])


def recheck(prepared: ImportReport, lookups: Lookups) -> ImportReport:
    """A preview's cleaned rows, checked again against the database as it is now.

    Cleaning a row (ID checksum, phone parsing, place look-ups) depends only on the file and
    the reference data, so a confirmation reuses it and repeats only what others may have
    changed since: ID numbers registered meanwhile, and travel groups.
    """
    fresh = [(r, Candidate(Cleaned(values=dict(r.values)))) for r in prepared.rows if r.status == "new"]
    kept = [r for r in prepared.rows if r.status == "error"]
    checked = _check(fresh, lookups)
    return ImportReport(sorted(kept + checked.rows, key=lambda r: r.row))


def commit(
    filename: str, data: bytes, lookups: Lookups, user: User | None, prepared: ImportReport | None = None
) -> ImportReport:
    """Write every good row in one transaction (the caller commits).

    With ``prepared`` (the preview the user confirmed) the rows are re-checked, not re-read.
    """
    report = recheck(prepared, lookups) if prepared is not None else preview(filename, data, lookups)
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


DATE_KEYS = ("birth_date", "earliest_date", "latest_date")


def report_to_json(report: ImportReport) -> str:
    """A checked preview as JSON, to confirm it in a later request."""
    rows = [
        {"row": r.row, "status": r.status, "name": r.name, "errors": r.errors,
         "values": {k: (v.isoformat() if k in DATE_KEYS else v) for k, v in r.values.items()}}
        for r in report.rows if r.status != "existing"
    ]  # fmt: skip
    return json.dumps(rows, ensure_ascii=False)


def report_from_json(text: str) -> ImportReport:
    rows = []
    for item in json.loads(text):
        values = {k: (date.fromisoformat(v) if k in DATE_KEYS else v) for k, v in item["values"].items()}
        rows.append(RowReport(item["row"], item["status"], item["name"], item["errors"], values))
    return ImportReport(rows)


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
    table, epoch = _read_table(filename, data)
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
                    {
                        key: _cell(key, cells[i] if i < len(cells) else None, epoch)
                        for i, key in columns
                    },
                )
            )
    return iter(rows)


def _cell(key: str, value: Any, epoch: date) -> Any:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    if key in TEXT_ONLY:
        return NumericCell(value)
    if key in DATE_FIELDS and 0 < value < 2_958_466:  # a date cell: days since the epoch
        return epoch + timedelta(days=int(value))
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


def _read_table(filename: str, data: bytes) -> tuple[Iterator[tuple], date]:
    """The rows, and the day that spreadsheet date number 0 stands for."""
    name = filename.lower()
    if name.endswith(".csv"):
        return _read_csv(data), EPOCH_1900
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


def _read_xlsx(data: bytes) -> tuple[Iterator[tuple], date]:
    _check_archive(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheet_path, date1904 = _first_sheet(archive)
            strings = _shared_strings(archive)
            with archive.open(sheet_path) as source:
                rows = _SheetReader(strings, date1904).read(source)
    except ImportFileError:
        raise
    except Exception:  # DTDs and entities refused, broken parts, not a workbook: all one to a user
        raise ImportFileError(
            _("The workbook could not be read safely; save it again as .xlsx.")
        ) from None
    return iter(rows), EPOCH_1904 if date1904 else EPOCH_1900


def _check_archive(data: bytes) -> None:
    """Refuse what is not a zip, and zip bombs, before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
            is_workbook = "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        is_workbook, unpacked = False, 0
    if not is_workbook:
        raise ImportFileError(_("This is not a real .xlsx workbook."))
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(_("The workbook could not be read safely; save it again as .xlsx."))


# A small streaming reader for the first worksheet. openpyxl needed ~1 s per 1,000 rows here
# (inline strings, a whole extra pass when <dimension> is missing); expat callbacks are ~20x faster.
# Like defusedxml, it refuses any DTD, so no entity can be declared, let alone expanded.


def _local(name: str) -> str:
    return name.rpartition(":")[2].rpartition("}")[2]


def _safe_parser() -> xml.parsers.expat.XMLParserType:
    parser = xml.parsers.expat.ParserCreate()

    def refuse(*_args):
        raise ValueError("DTD refused")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _parse(parser, source) -> None:
    while chunk := source.read(1 << 16):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _elements(archive: zipfile.ZipFile, path: str) -> list[tuple[str, dict]]:
    found: list[tuple[str, dict]] = []
    parser = _safe_parser()
    parser.StartElementHandler = lambda name, attrs: found.append((_local(name), attrs))
    with archive.open(path) as source:
        _parse(parser, source)
    return found


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The first worksheet's path inside the archive, and whether dates count from 1904."""
    book = _elements(archive, "xl/workbook.xml")
    date1904 = any(n == "workbookPr" and a.get("date1904") in ("1", "true") for n, a in book)
    rel_id = next(_attr(a, "id") for n, a in book if n == "sheet")
    rels = _elements(archive, "xl/_rels/workbook.xml.rels")
    target = next(a["Target"] for n, a in rels if n == "Relationship" and a.get("Id") == rel_id)
    return (target.lstrip("/") if target.startswith("/") else "xl/" + target), date1904


def _attr(attrs: dict, local: str) -> str:
    return next(v for k, v in attrs.items() if _local(k) == local)


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings: list[str] = []
    parts: list[str] = []
    state = {"text": False, "phonetic": False}

    def start(name, _attrs):
        name = _local(name)
        if name == "si":
            parts.clear()
        state["text"] = name == "t" and not state["phonetic"]
        state["phonetic"] = state["phonetic"] or name == "rPh"  # pinyin/furigana runs

    def end(name):
        name = _local(name)
        state["text"] = False
        if name == "rPh":
            state["phonetic"] = False
        elif name == "si":
            strings.append("".join(parts))

    parser = _safe_parser()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = lambda data: parts.append(data) if state["text"] else None
    with archive.open("xl/sharedStrings.xml") as source:
        _parse(parser, source)
    return strings


class _SheetReader:
    """Cell values row by row (index = spreadsheet row - 1), as openpyxl's data_only gives them."""

    def __init__(self, strings: list[str], date1904: bool) -> None:
        self.strings, self.date1904 = strings, date1904
        self.rows: list[tuple] = []
        self.row: dict[int, Any] = {}
        self.row_number = 0
        self.cell: tuple[int, str] | None = None
        self.text: list[str] | None = None

    def read(self, source) -> list[tuple]:
        parser = _safe_parser()
        parser.StartElementHandler, parser.EndElementHandler = self._start, self._end
        parser.CharacterDataHandler = self._data
        parser.buffer_text = True
        _parse(parser, source)
        return self.rows

    def _start(self, name: str, attrs: dict) -> None:
        name = _local(name)
        if name == "row":
            self.row_number = int(attrs.get("r") or self.row_number + 1)
            self.row = {}
        elif name == "c":
            ref = attrs.get("r")
            column = _column_index(ref) if ref else len(self.row)
            self.cell = (column, attrs.get("t", "n"))
            self.text = None
        elif name in ("v", "t") and self.cell is not None:
            self.text = [] if self.text is None or name == "v" else self.text

    def _data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _end(self, name: str) -> None:
        name = _local(name)
        if name == "c" and self.cell is not None:
            column, kind = self.cell
            if column < MAX_COLUMNS and self.text is not None:
                self.row[column] = self._value(kind, "".join(self.text))
            self.cell = self.text = None
        elif name == "row":
            self._close_row()

    def _close_row(self) -> None:
        values = {k: v for k, v in self.row.items() if v not in (None, "")}
        if not values:
            return  # an empty (perhaps only formatted) row: nothing to pad towards
        if self.row_number > MAX_ROWS + 1:
            raise ImportFileError(
                _("The file has more than %(n)d rows: split it into smaller files.", n=MAX_ROWS)
            )
        self.rows.extend(() for _ in range(len(self.rows), self.row_number - 1))
        width = max(values) + 1
        self.rows.append(tuple(values.get(i) for i in range(width)))

    def _value(self, kind: str, raw: str) -> Any:
        if raw == "":
            return None  # a formula never calculated has no cached value: never run it here
        if kind == "s":
            return self.strings[int(raw)]
        if kind in ("inlineStr", "str", "d"):
            return raw
        if kind == "b":
            return raw == "1"
        if kind == "e":
            return None
        number = float(raw)
        return (
            int(number)
            if number.is_integer() and "." not in raw and "E" not in raw.upper()
            else number
        )


def _column_index(ref: str) -> int:
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index - 1
