"""Importing workers from .xlsx and .csv: preview, confirm, and hostile files refused cleanly."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from dispatch.extensions import db
from dispatch.services import worker_import, worker_sheets
from dispatch.services.worker_fields import Lookups
from tests.support.apps import login, make_app, seed_demo
from tests.support.workers import (
    HEADERS,
    as_cells,
    audit_actions,
    csv_bytes,
    id_number,
    mobile,
    worker_count,
    worker_row,
    workers_where,
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


def _upload(client, data: bytes, filename: str):
    return client.post(
        "/workers/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _commit_url(html: str) -> str:
    return re.search(r'action="(/workers/import/[^"]+/commit)"', html).group(1)


def _counts(html: str) -> dict[str, int]:
    return {
        k: int(re.search(rf'id="count-{k}">(\d+)<', html).group(1))
        for k in ("new", "existing", "error")
    }


def _error_rows(html: str) -> list[tuple[int, str]]:
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return [
        (int(r), f)
        for r, f in re.findall(r'<td class="num">(\d+)</td><td>[^<]*</td><td>([^<]*)</td>', table)
    ]


def _preview(demo_app, data: bytes, filename: str):
    with demo_app.app_context():
        return worker_import.preview(filename, data, Lookups.load())


# --- good files -------------------------------------------------------------------------


def test_good_xlsx_previews_then_writes_on_confirmation_only(admin_client, demo_app):
    before = worker_count(demo_app)
    data = xlsx_bytes([as_cells(worker_row(n)) for n in range(1, 6)])
    html = _upload(admin_client, data, "好名单.xlsx").get_data(as_text=True)
    assert _counts(html) == {"new": 5, "existing": 0, "error": 0}
    assert worker_count(demo_app) == before  # nothing written by the preview
    response = admin_client.post(_commit_url(html))
    assert response.status_code == 302
    assert worker_count(demo_app) == before + 5
    [worker] = workers_where(demo_app, id_number=id_number(3))
    assert worker.phone == "+8613903570003" and worker.pickup_site_id == "hongtong"
    actions = audit_actions(demo_app)
    assert actions.count("worker.create") == 5 and "worker.import" in actions


def test_reimporting_the_same_file_changes_nothing(admin_client, demo_app):
    data = xlsx_bytes([as_cells(worker_row(n)) for n in range(1, 4)])
    admin_client.post(_commit_url(_upload(admin_client, data, "a.xlsx").get_data(as_text=True)))
    count = worker_count(demo_app)
    html = _upload(admin_client, data, "a.xlsx").get_data(as_text=True)
    assert _counts(html) == {"new": 0, "existing": 3, "error": 0}
    assert "/commit" not in html
    assert worker_count(demo_app) == count


def test_confirmation_rechecks_what_changed_since_the_preview(admin_client, demo_app):
    data = xlsx_bytes([as_cells(worker_row(n)) for n in range(1, 4)])
    html = _upload(admin_client, data, "a.xlsx").get_data(as_text=True)
    assert _counts(html)["new"] == 3
    # Someone registers row 2's worker between the preview and the confirmation.
    one = xlsx_bytes([as_cells(worker_row(2))])
    with demo_app.app_context():
        worker_import.commit("b.xlsx", one, Lookups.load(), None)
        db.session.commit()
    count = worker_count(demo_app)
    assert admin_client.post(_commit_url(html)).status_code == 302
    assert worker_count(demo_app) == count + 2  # never twice, never a failed transaction
    assert len(workers_where(demo_app, id_number=id_number(2))) == 1


def test_a_confirmed_preview_survives_its_json_form(demo_app):
    data = xlsx_bytes(
        [as_cells(worker_row(n)) for n in range(1, 4)] + [as_cells(worker_row(9, phone="123"))]
    )
    report = _preview(demo_app, data, "a.xlsx")
    again = worker_import.report_from_json(worker_import.report_to_json(report))
    assert [(r.row, r.status, r.values, r.errors) for r in again.rows] == [
        (r.row, r.status, r.values, r.errors) for r in report.rows
    ]


@pytest.mark.parametrize(
    ("encoding", "headers"),
    [("utf-8", HEADERS), ("utf-8-sig", HEADERS), ("gb18030", None), ("utf-8-sig", None)],
)
def test_csv_in_utf8_with_or_without_bom_and_gb18030(demo_app, encoding, headers):
    from tests.support.workers import HEADERS_ZH

    rows = [
        as_cells(worker_row(n, name=f"中文名{n}", county="洪洞县", destination="昆山市"))
        for n in (1, 2)
    ]
    data = csv_bytes(rows, headers or HEADERS_ZH, encoding)
    report = _preview(demo_app, data, "list.CSV")
    assert [r.status for r in report.rows] == ["new", "new"], [r.errors for r in report.rows]
    assert [r.name for r in report.rows] == ["中文名1", "中文名2"]


def test_english_headers_in_any_case_and_required_markers(demo_app):
    headers = [h.upper() for h in HEADERS]
    headers[0] = "姓名*"
    data = xlsx_bytes([as_cells(worker_row(1))], headers)
    assert [r.status for r in _preview(demo_app, data, "x.xlsx").rows] == ["new"]


def test_template_has_chinese_headers_and_text_id_column(admin_client, demo_app):
    response = admin_client.get("/workers/template.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["姓名", "身份证号", "手机号"]
    id_col = headers.index("身份证号") + 1
    assert sheet.cell(row=2, column=id_col).number_format == "@"
    assert sheet.cell(row=500, column=id_col).number_format == "@"
    book.close()
    # filled in, the template imports as it is
    sheet.cell(row=2, column=1).value = "模板填写"
    for col, key in enumerate(HEADERS, start=1):
        sheet.cell(row=2, column=col).value = worker_row(1)[key] or None
    out = io.BytesIO()
    book.save(out)
    assert [r.status for r in _preview(demo_app, out.getvalue(), "t.xlsx").rows] == ["new"]


# --- mixed files --------------------------------------------------------------------------


def test_every_bad_row_is_listed_by_row_field_and_reason(admin_client, demo_app):
    rows = [
        as_cells(worker_row(1)),  # row 2: good
        as_cells(worker_row(2, phone="0357-2345678")),  # row 3: landline
        [None] * len(HEADERS),  # row 4: empty, skipped
        as_cells(
            worker_row(3, id_number=id_number(3)[:17] + "Y", county="北京")
        ),  # row 5: two errors
        as_cells(worker_row(4, id_number=141024199005010018)),  # row 6: numeric ID cell
        as_cells(worker_row(5, id_number=id_number(1))),  # row 7: same ID as row 2
        as_cells(worker_row(6)),  # row 8: good
    ]
    html = _upload(admin_client, xlsx_bytes(rows), "mixed.xlsx").get_data(as_text=True)
    assert _counts(html) == {"new": 2, "existing": 0, "error": 4}
    assert sorted(_error_rows(html)) == [
        (3, "手机号"),
        (5, "户籍县区"),
        (5, "身份证号"),
        (6, "身份证号"),
        (7, "身份证号"),
    ]
    duplicate = _preview(demo_app, xlsx_bytes(rows), "mixed.xlsx").rows[4]
    assert duplicate.row == 7 and "2" in duplicate.errors["id_number"]  # points at the first row
    before = worker_count(demo_app)
    admin_client.post(_commit_url(html))
    assert worker_count(demo_app) == before + 2
    assert {
        w.name for w in workers_where(demo_app, county_id="hongtong") if w.name.startswith("测试")
    } == {"测试1", "测试6"}


def _asks_for_text(message: str) -> bool:
    return "文本" in message or "as text" in message


def test_numeric_id_cell_says_to_format_the_column_as_text(demo_app):
    report = _preview(
        demo_app, xlsx_bytes([as_cells(worker_row(1, id_number=1.41081199201e17))]), "n.xlsx"
    )
    [row] = report.rows
    assert row.status == "error" and _asks_for_text(row.errors["id_number"])
    csv_report = _preview(
        demo_app, csv_bytes([as_cells(worker_row(1, id_number="1.41081199201E+17"))]), "n.csv"
    )
    assert _asks_for_text(csv_report.rows[0].errors["id_number"])


def test_ids_registered_already_are_left_unchanged(demo_app):
    [existing] = workers_where(demo_app, county_id="hongtong")[:1]
    row = worker_row(1, id_number=existing.id_number, name="另一个名字")
    report = _preview(demo_app, xlsx_bytes([as_cells(row), as_cells(worker_row(2))]), "d.xlsx")
    assert [r.status for r in report.rows] == ["existing", "new"]
    with demo_app.app_context():
        worker_import.commit("d.xlsx", xlsx_bytes([as_cells(row)]), Lookups.load(), None)
        db.session.commit()
    assert workers_where(demo_app, id=existing.id)[0].name == existing.name


def test_a_group_too_large_for_a_coach_is_refused_row_by_row(demo_app):
    rows = [as_cells(worker_row(n, group="BIG")) for n in range(1, 53)]
    report = _preview(demo_app, xlsx_bytes(rows), "g.xlsx")
    assert {r.status for r in report.rows} == {"error"} and all(
        "group" in r.errors for r in report.rows
    )
    mixed = [
        as_cells(worker_row(1, group="M")),
        as_cells(worker_row(2, group="M", destination="js-wuxi")),
    ]
    assert {r.status for r in _preview(demo_app, xlsx_bytes(mixed), "m.xlsx").rows} == {"error"}


def test_formula_cells_never_become_data(admin_client, demo_app):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(as_cells(worker_row(1, name='=HYPERLINK("http://evil.example","x")')))
    out = io.BytesIO()
    book.save(out)
    [row] = _preview(demo_app, out.getvalue(), "f.xlsx").rows
    assert row.status == "error" and "name" in row.errors  # no cached value: never run, never kept
    # a CSV cell is plain text: kept as typed, and neutralised again on export
    data = csv_bytes([as_cells(worker_row(2, name="=1+2", notes="@SUM(A1)"))])
    admin_client.post(_commit_url(_upload(admin_client, data, "f.csv").get_data(as_text=True)))
    [worker] = workers_where(demo_app, id_number=id_number(2))
    assert worker.name == "=1+2"
    exported = admin_client.get("/workers/export.csv", query_string={"q": "=1+2"}).data.decode(
        "utf-8-sig"
    )
    assert "'=1+2" in exported and "'@SUM(A1)" in exported


def test_a_coordinator_imports_only_own_county(hong_client, demo_app):
    rows = [as_cells(worker_row(1)), as_cells(worker_row(2, county="xixian"))]
    html = _upload(hong_client, xlsx_bytes(rows), "c.xlsx").get_data(as_text=True)
    assert _counts(html) == {"new": 1, "existing": 0, "error": 1}
    assert _error_rows(html) == [(3, "户籍县区")]


def test_a_commit_token_belongs_to_the_session_that_previewed(client, demo_app):
    login(client)
    html = _upload(client, xlsx_bytes([as_cells(worker_row(1))]), "s.xlsx").get_data(as_text=True)
    other = demo_app.test_client()
    login(other)
    before = worker_count(demo_app)
    assert other.post(_commit_url(html)).status_code == 302
    assert worker_count(demo_app) == before
    assert client.post(_commit_url(html)).status_code == 302
    assert worker_count(demo_app) == before + 1
    assert client.post(_commit_url(html)).status_code == 302  # a second confirmation: expired
    assert worker_count(demo_app) == before + 1


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
    response = _upload(admin_client, HOSTILE[kind](), "名单.xlsx")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="flash flash-error"' in html or "flash-error" in html
    assert "count-new" not in html
    assert worker_count(demo_app) == before


def test_xml_bomb_is_refused_by_the_parser_itself(demo_app):
    data = _bomb_sheet(xlsx_bytes([[1] + as_cells(worker_row(1))[1:]]))
    with pytest.raises(worker_import.ImportFileError):
        _preview(demo_app, data, "bomb.xlsx")
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
    html = _upload(admin_client, data, filename).get_data(as_text=True)
    assert "flash-error" in html and "count-new" not in html


def test_missing_columns_are_named(demo_app):
    data = csv_bytes([["张三", id_number(1)]], ["姓名", "身份证号"])
    with pytest.raises(worker_import.ImportFileError) as caught:
        _preview(demo_app, data, "c.csv")
    assert "手机号" in str(caught.value) and "目的地" in str(caught.value)


def test_an_oversize_upload_gets_413(tmp_path):
    app = make_app(tmp_path, MAX_CONTENT_LENGTH=20_000)
    with app.app_context():
        seed_demo(workers=0)
        db.session.commit()
    client = app.test_client()
    login(client)
    response = _upload(client, b"x" * 50_000, "big.csv")
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
        _preview(demo_app, _far_cell(1_048_576, 1), "far.xlsx")
    assert _preview(demo_app, _far_cell(3, 16_384), "wide.xlsx").rows == []


def test_a_zip_bomb_is_refused_before_unpacking(demo_app, monkeypatch):
    monkeypatch.setattr(worker_sheets, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(worker_import.ImportFileError):
        _preview(demo_app, xlsx_bytes([as_cells(worker_row(1))]), "zip.xlsx")


def test_a_csv_cell_past_the_csv_size_limit_is_refused_cleanly(admin_client):
    data = csv_bytes([as_cells(worker_row(1, notes="a" * 140_000))])
    html = _upload(admin_client, data, "huge-cell.csv").get_data(as_text=True)
    assert "flash-error" in html and "count-new" not in html


def test_date_cells_numbers_and_shared_strings_read_as_excel_shows_them(demo_app):
    from datetime import date, datetime

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
    report = _preview(demo_app, out.getvalue(), "dates.xlsx")
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
    report = _preview(demo_app, out.getvalue(), "gaps.xlsx")
    assert [(r.row, r.status) for r in report.rows] == [(2, "new"), (7, "error"), (12, "new")]
