"""Finding the worker list inside a sheet: its header row, the columns, and the rows that
are workers (a title above, a totals row and a signature line below are not)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _

from dispatch.services.worker_fields import FIELDS, HEADERS_ZH, NumericCell, without_controls
from dispatch.services.worker_sheets import ImportFileError, Table

REQUIRED = ("name", "id_number", "phone", "county", "destination", "earliest_date")
TEXT_ONLY = ("id_number",)
DATE_FIELDS = ("earliest_date", "latest_date")
HEADER_SEARCH_ROWS = 30  # the header is looked for among the first rows (titles, notes above)

# The names county offices give each column; the first is the template's (CONTRACTS.md §6).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "人员姓名", "务工人员姓名"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "公民身份证号码",
        "证件号码",
        "证件号",
        "身份证",
    ),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "联系方式", "电话", "电话号码"),
    "county": ("户籍县区", "户籍所在地", "户籍地", "县区", "县(市、区)", "所属县区", "户籍地址"),
    "township": ("乡镇村", "乡镇", "乡镇(街道)", "村", "乡镇村组"),
    "pickup_point": ("上车点", "上车地点", "乘车地点", "乘车点", "集合地点"),
    "destination": ("目的地", "务工地点", "务工地", "输入地", "务工城市", "就业地"),
    "employer": ("用工单位", "企业名称", "用工企业", "务工单位", "就业单位", "输入企业"),
    "earliest_date": ("最早出发日期", "出发日期", "计划出发日期", "出发时间", "乘车日期"),
    "latest_date": ("最晚出发日期",),
    "group": ("同行组", "同行组号"),
    "sms_consent": ("短信通知",),
    "notes": ("备注",),
}
TOTALS = re.compile(r"^(合计|总计|小计|共计)")
NOTE = re.compile(r"\([^()]*\)$")  # a header's trailing note, its brackets made ASCII by NFKC
SIGNATURE = re.compile(r"(填表人|审核人|负责人|制表人|填报人|填报单位|审批人|经办人|盖章)")


def header_key(title: Any) -> str:
    """A header cell as compared: no spaces, full-width brackets as ASCII, no required marks."""
    text = unicodedata.normalize("NFKC", str(title or ""))
    return re.sub(r"\s+", "", text).strip("*").lower()


def header_field(aliases: Mapping[str, str], title: Any) -> str | None:
    """The field a header cell names among ``aliases`` (header_key → field), also with a note
    in brackets after the name: 身份证号码（18位）, 联系电话（手机）, 核定座位数（座）."""
    key = header_key(title)
    return aliases.get(key) or aliases.get(NOTE.sub("", key))


def totals_row(cells: tuple) -> bool:
    """A sheet's 合计 / 总计 line: a count, not a person or a coach."""
    return any(TOTALS.match(str(c).strip()) for c in cells if c not in (None, ""))


ALIAS_TO_FIELD = {header_key(a): f for f, names in HEADER_ALIASES.items() for a in names}
ALIAS_TO_FIELD.update({f: f for f in FIELDS})  # the API's keys: name, id_number...
ALIAS_TO_FIELD.update({header_key(h): f for h, f in HEADERS_ZH.items()})


@dataclass
class Layout:
    """Where the list is: the header's row, each field's column, the columns left out."""

    header_row: int  # as the spreadsheet numbers it (1 = first row)
    columns: dict[str, int]
    ignored: list[str] = field(default_factory=list)


@dataclass
class SkippedRow:
    row: int
    reason: str
    text: str = ""


@dataclass
class SheetRows:
    layout: Layout
    workers: list[tuple[int, dict[str, Any]]]
    skipped: list[SkippedRow]


def find_layout(table: Table, given: frozenset[str] = frozenset()) -> Layout:
    """The row with the most recognised headers among the first rows, and its columns; the
    required fields in ``given`` are supplied for the whole file (a date, a county), so their
    columns may be missing."""
    best: Layout | None = None
    for index, cells in enumerate(table.rows[:HEADER_SEARCH_ROWS]):
        layout = _layout(index + 1, cells)
        if best is None or len(layout.columns) > len(best.columns):
            best = layout
    if best is None or not best.columns:
        raise ImportFileError(
            _(
                "No header row found: the list needs a row of column names such as %(names)s.",
                names=_accepted_names(REQUIRED),
            )
        )
    _require(best, table.rows[best.header_row - 1], given)
    return best


def _layout(row_number: int, cells: tuple) -> Layout:
    columns: dict[str, int] = {}
    ignored = []
    for index, title in enumerate(cells):
        field_name = header_field(ALIAS_TO_FIELD, title)
        if field_name and field_name not in columns:
            columns[field_name] = index
        elif header_key(title):
            ignored.append(str(title).strip())
    return Layout(row_number, columns, ignored)


def _require(layout: Layout, header: tuple, given: frozenset[str]) -> None:
    needed = [k for k in REQUIRED if k not in given]
    missing = [k for k in needed if k not in layout.columns]
    if not missing:
        return
    found = "、".join(str(c).strip() for c in header if header_key(c)) or "—"
    message = _(
        "Missing columns: %(columns)s. Headers found in row %(row)d: %(found)s.",
        columns="、".join(HEADER_ALIASES[k][0] for k in missing),
        row=layout.header_row,
        found=found,
    )
    hints = [_accepted(k) for k in missing]
    if "earliest_date" in missing:
        hints.append(_("Or choose a departure date for the whole file on the import page."))
    raise ImportFileError(" ".join([message, *hints]))


def _accepted(key: str) -> str:
    return _(
        "%(field)s may be headed %(names)s.",
        field=HEADER_ALIASES[key][0],
        names="、".join(HEADER_ALIASES[key]),
    )


def _accepted_names(keys: tuple[str, ...]) -> str:
    return "、".join(HEADER_ALIASES[k][0] for k in keys)


def worker_rows(table: Table, given: frozenset[str] = frozenset()) -> SheetRows:
    """The rows below the header: workers as {field: cell}, and the rows skipped, with why
    (``given``: the fields the whole file has, as find_layout)."""
    layout = find_layout(table, given)
    workers: list[tuple[int, dict[str, Any]]] = []
    skipped: list[SkippedRow] = []
    for index in range(layout.header_row, len(table.rows)):
        cells = table.rows[index]
        reason = _not_a_worker(cells, layout)
        if reason:
            skipped.append(SkippedRow(index + 1, reason, _row_text(cells)))
        else:
            workers.append((index + 1, _fields(cells, layout, table)))
    last = max([n for n, _w in workers] + [s.row for s in skipped if s.reason != BLANK] or [0])
    skipped = [s for s in skipped if s.reason != BLANK or s.row < last]  # not the sheet's tail
    return SheetRows(layout, workers, skipped)


BLANK = "blank"


def _not_a_worker(cells: tuple, layout: Layout) -> str:
    """Why a row below the header is not a worker, or '' when it is one."""
    texts = [str(c).strip() for c in cells if c not in (None, "")]
    if not texts:
        return BLANK
    name, id_number = (_cell_at(cells, layout, k) for k in ("name", "id_number"))
    if ID_LIKE.search(str(id_number or "")):
        return ""  # a person, however odd the rest of the row: its errors are listed
    if totals_row(cells):
        return "totals"
    if any(SIGNATURE.search(t) for t in texts):
        return "signature"
    if ALIAS_TO_FIELD.get(header_key(name)) == "name":
        return "header"
    if name in (None, "") and id_number in (None, ""):
        return "no_person"
    return ""


ID_LIKE = re.compile(r"\d{15}")


def _cell_at(cells: tuple, layout: Layout, key: str) -> Any:
    index = layout.columns.get(key)
    return cells[index] if index is not None and index < len(cells) else None


def _row_text(cells: tuple) -> str:
    """What a skipped row says, a merged cell's text once."""
    texts = [str(c).strip() for c in cells if c not in (None, "")]
    unique = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]
    return without_controls(" ".join(unique))[:80]


def _fields(cells: tuple, layout: Layout, table: Table) -> dict[str, Any]:
    return {key: _cell(key, _cell_at(cells, layout, key), table.epoch) for key in layout.columns}


def _cell(key: str, value: Any, epoch: date) -> Any:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    if key in TEXT_ONLY:
        return NumericCell(value)
    if key in DATE_FIELDS and 0 < value < 2_958_466:  # a date cell: days since the epoch
        try:
            return epoch + timedelta(days=int(value))
        except OverflowError:  # past 9999-12-31 counted from 1904
            return str(value)
    return value


def skip_reason_label(reason: str) -> str:
    """Why a row was skipped, in the user's language."""
    labels = {
        BLANK: _("Blank row"),
        "totals": _("Totals row"),
        "signature": _("Signature or note line"),
        "header": _("A header row repeated"),
        "no_person": _("No name and no ID number"),
    }
    return labels.get(reason, reason)
