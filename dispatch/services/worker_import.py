"""Importing workers from .xlsx, .xls and .csv: read, check every row, then write all good rows
at once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select

from dispatch.extensions import db
from dispatch.ids import batched
from dispatch.models import AuditEvent, User, Worker, utcnow
from dispatch.services import audit
from dispatch.services.sheet_files import read_table
from dispatch.services.worker_columns import SkippedRow, worker_rows
from dispatch.services.worker_fields import Cleaned, Lookups, clean_worker, without_controls
from dispatch.services.worker_sheets import ImportFileError
from dispatch.services.workers import Candidate, check_groups

__all__ = ["ImportFileError", "ImportReport", "RowReport", "commit", "preview"]
CHUNK = 900  # stay below SQLite's bound-parameter limit


@dataclass
class RowReport:
    row: int  # as the spreadsheet numbers it
    status: str  # new, existing, error
    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    registered_as: dict[str, Any] = field(default_factory=dict)  # id, name: within scope only


@dataclass
class ImportReport:
    rows: list[RowReport]
    written: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    header_row: int = 1

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def errors(self) -> list[RowReport]:
        return [r for r in self.rows if r.status == "error"]

    def of(self, status: str) -> list[RowReport]:
        return [r for r in self.rows if r.status == status]


@dataclass(frozen=True)
class FileDates:
    """The departure date (or window) the coordinator gives the rows that have none."""

    earliest: date | None = None
    latest: date | None = None

    def fill(self, raw: dict[str, Any]) -> dict[str, Any]:
        if self.earliest is None or raw.get("earliest_date") not in (None, ""):
            return raw
        return {**raw, "earliest_date": self.earliest, "latest_date": self.latest or self.earliest}


def preview(
    filename: str, data: bytes, lookups: Lookups, dates: FileDates | None = None
) -> ImportReport:
    """Check every row; write nothing."""
    dates = dates or FileDates()
    # A coordinator of one county: a sheet of theirs needs no county column (a county office's
    # own list has none), and a row without a county is theirs.
    county = next(iter(lookups.scope)) if lookups.scope and len(lookups.scope) == 1 else None
    given = {"earliest_date"} if dates.earliest is not None else set()
    given |= {"county"} if county is not None else set()
    sheet = worker_rows(read_table(filename, data), frozenset(given))
    rows = [
        RowReport(number, "new", text_name(raw), values=_own_county(dates.fill(raw), county))
        for number, raw in sheet.workers
    ]
    checked = [(report, Candidate(clean_worker(report.values, lookups))) for report in rows]
    report = _check(checked, lookups)
    report.skipped, report.ignored_columns = sheet.skipped, sheet.layout.ignored
    report.header_row = sheet.layout.header_row
    return report


def _own_county(raw: dict[str, Any], county: str | None) -> dict[str, Any]:
    if county is None or raw.get("county") not in (None, ""):
        return raw
    return {**raw, "county": county}


def _check(candidates: list[tuple[RowReport, Candidate]], lookups: Lookups) -> ImportReport:
    """The checks that depend on the database and on the other rows: duplicates and groups."""
    _mark_duplicates(candidates, lookups.scope)
    check_groups([c for r, c in candidates if r.status == "new"], lookups)
    for report, candidate in candidates:
        if report.status == "new" and not candidate.cleaned.ok:
            report.status, report.errors = "error", candidate.cleaned.errors
        report.values = candidate.cleaned.values if report.status == "new" else {}
        report.name = report.values.get("name") or report.name  # as it will be saved
    return ImportReport([r for r, _c in candidates])


def recheck(prepared: ImportReport, lookups: Lookups) -> ImportReport:
    """A preview's cleaned rows, checked again against the database as it is now.

    Cleaning a row (ID checksum, phone parsing, place look-ups) depends only on the file and
    the reference data, so a confirmation reuses it and repeats only what others may have
    changed since: ID numbers registered meanwhile, and travel groups.
    """
    fresh = [
        (r, Candidate(Cleaned(values=dict(r.values)))) for r in prepared.rows if r.status == "new"
    ]
    kept = [r for r in prepared.rows if r.status in ("error", "existing")]  # as the preview said
    checked = _check(fresh, lookups)
    return ImportReport(sorted(kept + checked.rows, key=lambda r: r.row))


def commit(
    filename: str,
    data: bytes,
    lookups: Lookups,
    user: User | None,
    prepared: ImportReport | None = None,
    dates: FileDates | None = None,
) -> ImportReport:
    """Write every good row in one transaction (the caller commits).

    With ``prepared`` (the preview the user confirmed) the rows are re-checked, not re-read.
    """
    report = (
        recheck(prepared, lookups)
        if prepared is not None
        else preview(filename, data, lookups, dates)
    )
    good = [r.values for r in report.rows if r.status == "new"]
    now = utcnow()
    for values in batched(good, CHUNK):
        chunk = [{**v, "created_at": now, "updated_at": now} for v in values]
        ids = db.session.execute(insert(Worker).returning(Worker.id), chunk).scalars().all()
        _audit_created(user, ids, now)
    name = without_controls(filename)[:40]
    audit.record(user, "worker.import", "file", name, {"written": len(good)})
    db.session.flush()
    report.written = len(good)
    return report


DATE_KEYS = ("birth_date", "earliest_date", "latest_date")


def report_to_json(report: ImportReport) -> str:
    """A checked preview as JSON, to confirm it in a later request."""
    rows = [
        {
            "row": r.row,
            "status": r.status,
            "name": r.name,
            "errors": r.errors,
            "values": {k: (v.isoformat() if k in DATE_KEYS else v) for k, v in r.values.items()},
        }
        for r in report.rows
        if r.status != "existing"
    ]
    return json.dumps(rows, ensure_ascii=False)


def report_from_json(text: str) -> ImportReport:
    rows = []
    for item in json.loads(text):
        values = {
            k: (date.fromisoformat(v) if k in DATE_KEYS else v) for k, v in item["values"].items()
        }
        rows.append(RowReport(item["row"], item["status"], item["name"], item["errors"], values))
    return ImportReport(rows)


def _audit_created(user: User | None, ids: list[int], now) -> None:
    if ids:
        rows = [
            {
                "user_id": user.id if user else None,
                "action": "worker.create",
                "object_type": "worker",
                "object_id": str(i),
                "detail": {"source": "import"},
                "remote_addr": "",
                "at": now,
            }
            for i in ids
        ]
        db.session.execute(insert(AuditEvent), rows)


def _mark_duplicates(candidates: list[tuple[RowReport, Candidate]], scope: set[str] | None) -> None:
    """A second row with the same ID number is an error; one already registered is left as is
    and named only to a coordinator who may see that worker."""
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
            worker_id, name, county_id = known[number]
            visible = scope is None or county_id in scope
            report.registered_as = {"id": worker_id, "name": name} if visible else {}
        first_row.setdefault(number, report.row)


def _registered(numbers: set[str]) -> dict[str, tuple[int, str, str]]:
    """ID number → (worker id, name, county) of those already registered."""
    found: dict[str, tuple[int, str, str]] = {}
    ordered = sorted(numbers)
    columns = (Worker.id_number, Worker.id, Worker.name, Worker.county_id)
    for chunk in batched(ordered, CHUNK):
        for number, *rest in db.session.execute(
            select(*columns).where(Worker.id_number.in_(chunk))
        ):
            found[number] = tuple(rest)
    return found


def text_name(raw: dict[str, Any]) -> str:
    value = raw.get("name")
    return without_controls(str(value)).strip()[:40] if value is not None else ""
