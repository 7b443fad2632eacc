"""Importing workers from .xlsx and .csv: preview, confirm, and hostile files refused cleanly."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from dispatch.extensions import db
from dispatch.services import worker_import
from dispatch.services.worker_fields import Lookups
from tests.support.apps import login
from tests.support.workers import (
    HEADERS,
    as_cells,
    audit_actions,
    csv_bytes,
    id_number,
    preview_sheet,
    upload_sheet,
    worker_count,
    worker_row,
    workers_where,
    xlsx_bytes,
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


# --- good files -------------------------------------------------------------------------


def test_good_xlsx_previews_then_writes_on_confirmation_only(admin_client, demo_app):
    before = worker_count(demo_app)
    data = xlsx_bytes([as_cells(worker_row(n)) for n in range(1, 6)])
    html = upload_sheet(admin_client, data, "好名单.xlsx").get_data(as_text=True)
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
    admin_client.post(
        _commit_url(upload_sheet(admin_client, data, "a.xlsx").get_data(as_text=True))
    )
    count = worker_count(demo_app)
    html = upload_sheet(admin_client, data, "a.xlsx").get_data(as_text=True)
    assert _counts(html) == {"new": 0, "existing": 3, "error": 0}
    assert "/commit" not in html
    assert worker_count(demo_app) == count


def test_confirmation_rechecks_what_changed_since_thepreview_sheet(admin_client, demo_app):
    data = xlsx_bytes([as_cells(worker_row(n)) for n in range(1, 4)])
    html = upload_sheet(admin_client, data, "a.xlsx").get_data(as_text=True)
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
    report = preview_sheet(demo_app, data, "a.xlsx")
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
    report = preview_sheet(demo_app, data, "list.CSV")
    assert [r.status for r in report.rows] == ["new", "new"], [r.errors for r in report.rows]
    assert [r.name for r in report.rows] == ["中文名1", "中文名2"]


def test_english_headers_in_any_case_and_required_markers(demo_app):
    headers = [h.upper() for h in HEADERS]
    headers[0] = "姓名*"
    data = xlsx_bytes([as_cells(worker_row(1))], headers)
    assert [r.status for r in preview_sheet(demo_app, data, "x.xlsx").rows] == ["new"]


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
    assert [r.status for r in preview_sheet(demo_app, out.getvalue(), "t.xlsx").rows] == ["new"]


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
    html = upload_sheet(admin_client, xlsx_bytes(rows), "mixed.xlsx").get_data(as_text=True)
    assert _counts(html) == {"new": 2, "existing": 0, "error": 4}
    assert sorted(_error_rows(html)) == [
        (3, "手机号"),
        (5, "户籍县区"),
        (5, "身份证号"),
        (6, "身份证号"),
        (7, "身份证号"),
    ]
    duplicate = preview_sheet(demo_app, xlsx_bytes(rows), "mixed.xlsx").rows[4]
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
    report = preview_sheet(
        demo_app, xlsx_bytes([as_cells(worker_row(1, id_number=1.41081199201e17))]), "n.xlsx"
    )
    [row] = report.rows
    assert row.status == "error" and _asks_for_text(row.errors["id_number"])
    csv_report = preview_sheet(
        demo_app, csv_bytes([as_cells(worker_row(1, id_number="1.41081199201E+17"))]), "n.csv"
    )
    assert _asks_for_text(csv_report.rows[0].errors["id_number"])


def test_ids_registered_already_are_left_unchanged(demo_app):
    [existing] = workers_where(demo_app, county_id="hongtong")[:1]
    row = worker_row(1, id_number=existing.id_number, name="另一个名字")
    report = preview_sheet(demo_app, xlsx_bytes([as_cells(row), as_cells(worker_row(2))]), "d.xlsx")
    assert [r.status for r in report.rows] == ["existing", "new"]
    with demo_app.app_context():
        worker_import.commit("d.xlsx", xlsx_bytes([as_cells(row)]), Lookups.load(), None)
        db.session.commit()
    assert workers_where(demo_app, id=existing.id)[0].name == existing.name
    with demo_app.app_context():  # confirming the preview: the summary says what it said
        done = worker_import.commit("d.xlsx", b"", Lookups.load(), None, prepared=report)
        assert (done.count("existing"), done.written) == (1, 1)  # was 0 registered already
        db.session.rollback()


def test_a_group_too_large_for_a_coach_is_refused_row_by_row(demo_app):
    rows = [as_cells(worker_row(n, group="BIG")) for n in range(1, 53)]
    report = preview_sheet(demo_app, xlsx_bytes(rows), "g.xlsx")
    assert {r.status for r in report.rows} == {"error"} and all(
        "group" in r.errors for r in report.rows
    )
    mixed = [
        as_cells(worker_row(1, group="M")),
        as_cells(worker_row(2, group="M", destination="js-wuxi")),
    ]
    assert {r.status for r in preview_sheet(demo_app, xlsx_bytes(mixed), "m.xlsx").rows} == {
        "error"
    }


def test_formula_cells_never_become_data(admin_client, demo_app):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(as_cells(worker_row(1, name='=HYPERLINK("http://evil.example","x")')))
    out = io.BytesIO()
    book.save(out)
    [row] = preview_sheet(demo_app, out.getvalue(), "f.xlsx").rows
    assert row.status == "error" and "name" in row.errors  # no cached value: never run, never kept
    # a CSV cell is plain text: kept as typed, and neutralised again on export
    data = csv_bytes([as_cells(worker_row(2, name="=1+2", notes="@SUM(A1)"))])
    admin_client.post(_commit_url(upload_sheet(admin_client, data, "f.csv").get_data(as_text=True)))
    [worker] = workers_where(demo_app, id_number=id_number(2))
    assert worker.name == "=1+2"
    exported = admin_client.get("/workers/export.csv", query_string={"q": "=1+2"}).data.decode(
        "utf-8-sig"
    )
    assert "'=1+2" in exported and "'@SUM(A1)" in exported


def test_a_coordinator_imports_only_own_county(hong_client, demo_app):
    rows = [as_cells(worker_row(1)), as_cells(worker_row(2, county="xixian"))]
    html = upload_sheet(hong_client, xlsx_bytes(rows), "c.xlsx").get_data(as_text=True)
    assert _counts(html) == {"new": 1, "existing": 0, "error": 1}
    assert _error_rows(html) == [(3, "户籍县区")]


def test_a_commit_token_belongs_to_the_session_that_previewed(client, demo_app):
    login(client)
    html = upload_sheet(client, xlsx_bytes([as_cells(worker_row(1))]), "s.xlsx").get_data(
        as_text=True
    )
    other = demo_app.test_client()
    login(other)
    before = worker_count(demo_app)
    assert other.post(_commit_url(html)).status_code == 302
    assert worker_count(demo_app) == before
    assert client.post(_commit_url(html)).status_code == 302
    assert worker_count(demo_app) == before + 1
    assert client.post(_commit_url(html)).status_code == 302  # a second confirmation: expired
    assert worker_count(demo_app) == before + 1
