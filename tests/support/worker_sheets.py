"""County sheets as county offices send them: a merged title, a notes row, their own headers in
their own order, a totals row and a signature line, and no date column."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl

from dispatch.identity import make_id_number

TITLE = "临汾市2026年春风行动点对点输送人员登记表"
NOTES = "说明：身份证号码、联系电话请设为文本格式；务工地填写城市名称。"
HEADERS = [
    "序号",
    "姓名",
    "性别",
    "户籍地",
    "身份证号码",
    "联系电话",
    "务工地",
    "用工企业",
    "乘车地点",
]
SIGNATURE = "填表人：王丽    审核人：李建国    联系电话：0357-6221234"
XLS_FIXTURE = (
    Path(__file__).resolve().parent.parent / "workers" / "data" / "hongtong-register.xls"
)  # 洪洞县登记表


def county_id(n: int) -> str:
    """A valid ID number of a Hongtong native, distinct for each n < 28, outside the demo's."""
    return make_id_number("141024", date(1985, 3, 1 + n), 700 + n)


def person(
    n: int,
    name: str,
    county: str = "洪洞",
    destination: str = "江苏昆山",
    employer: str = "",
    pickup: str = "洪洞县",
    id_number: str | None = None,
) -> list[Any]:
    """One worker's cells in HEADERS order (序号 is n)."""
    sex = "男" if n % 2 else "女"
    phone = f"1390358{n:04d}"
    return [n, name, sex, county, id_number or county_id(n), phone, destination, employer, pickup]


def county_sheet_rows(people: list[list[Any]]) -> list[list[Any]]:
    """The whole sheet: title, notes, headers, people, a blank row, totals, signature."""
    width = len(HEADERS)
    total = ["合计", *[""] * (width - 2), f"{len(people)}人"]
    return [
        [TITLE, *[None] * (width - 1)],
        [NOTES, *[None] * (width - 1)],
        HEADERS,
        *people,
        [None] * width,
        total,
        [SIGNATURE, *[None] * (width - 1)],
    ]


def county_sheet_xlsx(people: list[list[Any]]) -> bytes:
    """The sheet as .xlsx, its title, notes and signature merged across the table."""
    rows = county_sheet_rows(people)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "登记表"
    for row in rows:
        sheet.append(row)
    last = openpyxl.utils.get_column_letter(len(HEADERS))
    for row_number in (1, 2, len(rows)):
        sheet.merge_cells(f"A{row_number}:{last}{row_number}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLS_PEOPLE = [  # what XLS_FIXTURE holds below its title (made once with xlwt: make_xls_fixture)
    (21, "旧表甲", "洪洞县", "昆山市"),
    (22, "旧表乙", "临汾市洪洞县", "江苏昆山"),
]


def make_xls_fixture(path: Path = XLS_FIXTURE) -> None:  # pragma: no cover - run by hand
    """Write XLS_FIXTURE with xlwt (not a dependency: `pip install --target DIR xlwt`)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("登记表")
    people = [person(n, name, county, dest) for n, name, county, dest in XLS_PEOPLE]
    rows = county_sheet_rows(people)
    for r, row in enumerate(rows):
        if r in (0, 1, len(rows) - 1):
            sheet.write_merge(r, r, 0, len(HEADERS) - 1, row[0])
            continue
        for c, value in enumerate(row):
            if value not in (None, ""):
                sheet.write(r, c, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
