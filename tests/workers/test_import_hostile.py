"""Importing workers: hostile and malformed files (bombs, formulas, far cells, wrong types) are
refused cleanly and quickly, and cells read as Excel shows them."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from dispatch.extensions import db
from dispatch.services import worker_import, worker_sheets
from tests.support.apps import login, make_app, seed_demo
from tests.support.workers import (
    HEADERS,
    as_cells,
    csv_bytes,
    id_number,
    mobile,
    preview_sheet,
    upload_sheet,
    worker_count,
    worker_row,
    xlsx_bytes,
)

BOMB_DTD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
)


# --- hostile files -------------------------------------------------------------------------


def _replace_member(data: bytes, member: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, content if item.filename == member else src.read(item.filename))
    return out.getvalue()


def _bomb_sheet(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        sheet = src.read("xl/worksheets/sheet1.xml").decode()
    body = sheet.split("?>", 1)[1] if sheet.startswith("<?xml") else sheet
    body = body.replace("<v>", "<v>&lol9;", 1) if "<v>" in body else body
    return _replace_member(data, "xl/worksheets/sheet1.xml", (BOMB_DTD + body).encode())


def _zip_of(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return out.getvalue()


HOSTILE = {
    "xml-bomb": lambda: _bomb_sheet(xlsx_bytes([[1] + as_cells(worker_row(1))[1:]])),
    "zip-not-workbook": lambda: _zip_of(**{"readme.txt": b"hello", "data.csv": b"a,b"}),
    "text-named-xlsx": lambda: "姓名,身份证号\n张三,1\n".encode(),
    "truncated-xlsx": lambda: xlsx_bytes([as_cells(worker_row(1))])[:300],
    "empty-file": lambda: b"",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_xlsx_is_refused_cleanly(admin_client, demo_app, kind):
    before = worker_count(demo_app)
    response = upload_sheet(admin_client, HOSTILE[kind](), "名单.xlsx")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="flash flash-error"' in html or "flash-error" in html
    assert "count-new" not in html
    assert worker_count(demo_app) == before


def test_xml_bomb_is_refused_by_the_parser_itself(demo_app):
    data = _bomb_sheet(xlsx_bytes([[1] + as_cells(worker_row(1))[1:]]))
    with pytest.raises(worker_import.ImportFileError):
        preview_sheet(demo_app, data, "bomb.xlsx")
    from defusedxml import EntitiesForbidden

    with zipfile.ZipFile(io.BytesIO(data)) as z, pytest.raises(EntitiesForbidden):
        from openpyxl.xml.functions import fromstring

        fromstring(z.read("xl/worksheets/sheet1.xml"))


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("list.txt", b"name\n"),
        ("list.xls", b"\xd0\xcf\x11\xe0"),
        ("list.csv", "姓名".encode("utf-16")),
    ],
)
def test_other_files_are_refused_with_a_reason(admin_client, filename, data):
    html = upload_sheet(admin_client, data, filename).get_data(as_text=True)
    assert "flash-error" in html and "count-new" not in html


def test_missing_columns_are_named(demo_app):
    data = csv_bytes([["张三", id_number(1)]], ["姓名", "身份证号"])
    with pytest.raises(worker_import.ImportFileError) as caught:
        preview_sheet(demo_app, data, "c.csv")
    assert "手机号" in str(caught.value) and "目的地" in str(caught.value)


def test_an_oversize_upload_gets_413(tmp_path):
    app = make_app(tmp_path, MAX_CONTENT_LENGTH=20_000)
    with app.app_context():
        seed_demo(workers=0)
        db.session.commit()
    client = app.test_client()
    login(client)
    response = upload_sheet(client, b"x" * 50_000, "big.csv")
    assert response.status_code == 413
    with app.app_context():
        db.engine.dispose()


def _far_cell(row: int, column: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.cell(row=row, column=column).value = "x"  # a million padded rows, if trusted
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_tiny_file_claiming_a_far_away_cell_is_refused_quickly(demo_app):
    with pytest.raises(worker_import.ImportFileError):
        preview_sheet(demo_app, _far_cell(1_048_576, 1), "far.xlsx")
    assert preview_sheet(demo_app, _far_cell(3, 16_384), "wide.xlsx").rows == []


def test_a_zip_bomb_is_refused_before_unpacking(demo_app, monkeypatch):
    monkeypatch.setattr(worker_sheets, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(worker_import.ImportFileError):
        preview_sheet(demo_app, xlsx_bytes([as_cells(worker_row(1))]), "zip.xlsx")


def test_a_csv_cell_past_the_csv_size_limit_is_refused_cleanly(admin_client):
    data = csv_bytes([as_cells(worker_row(1, notes="a" * 140_000))])
    html = upload_sheet(admin_client, data, "huge-cell.csv").get_data(as_text=True)
    assert "flash-error" in html and "count-new" not in html


def test_date_cells_numbers_and_shared_strings_read_as_excel_shows_them(demo_app):

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", *HEADERS])  # an extra leading column is ignored
    row = as_cells(worker_row(1, phone=13903570001, sms_consent=True))
    row[HEADERS.index("earliest_date")] = datetime(2026, 3, 2)
    row[HEADERS.index("latest_date")] = date(2026, 3, 4)
    sheet.append([1, *row])
    sheet.append([None] * 14)
    sheet.cell(row=5, column=1).value = 3  # a numbered but otherwise empty row
    out = io.BytesIO()
    book.save(out)
    report = preview_sheet(demo_app, out.getvalue(), "dates.xlsx")
    assert [(r.row, r.status) for r in report.rows] == [(2, "new")]
    # a pre-numbered row with nobody in it is not a worker: skipped and listed, never an error
    assert [(s.row, s.reason) for s in report.skipped] == [
        (3, "blank"),
        (4, "blank"),
        (5, "no_person"),
    ]
    values = report.rows[0].values
    assert values["earliest_date"] == date(2026, 3, 2) and values["latest_date"] == date(2026, 3, 4)
    assert values["phone"] == "+8613903570001" and values["sms_consent"] is True


def test_rows_keep_their_spreadsheet_numbers_across_gaps(demo_app):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for target, n in ((2, 1), (7, 2), (12, 3)):
        for col, key in enumerate(HEADERS, start=1):
            sheet.cell(row=target, column=col).value = (
                worker_row(n, phone="1" if n == 2 else mobile(n))[key] or None
            )
    out = io.BytesIO()
    book.save(out)
    report = preview_sheet(demo_app, out.getvalue(), "gaps.xlsx")
    assert [(r.row, r.status) for r in report.rows] == [(2, "new"), (7, "error"), (12, "new")]
