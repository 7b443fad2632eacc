"""A county office's own sheet is read as it comes: its title, its header names, its way of
writing places, its totals and signature lines, merged cells, old .xls, no date column."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from dispatch.services import worker_import
from dispatch.services.worker_fields import Lookups
from tests.support.worker_sheets import (
    HEADERS,
    XLS_FIXTURE,
    XLS_PEOPLE,
    county_id,
    county_sheet_rows,
    county_sheet_xlsx,
    person,
)
from tests.support.workers import csv_bytes

MARCH_3 = worker_import.FileDates(date(2026, 3, 3))


def _preview(app, data: bytes, filename: str, dates=MARCH_3, scope=None):
    with app.app_context():
        return worker_import.preview(filename, data, Lookups.load(scope), dates)


def _values(report, key: str) -> list:
    return [r.values.get(key) for r in report.rows]


def test_title_notes_totals_and_signature_around_the_list(demo_app):
    data = county_sheet_xlsx([person(1, "郭建军"), person(2, "贾秀英")])
    report = _preview(demo_app, data, "登记表.xlsx")
    assert report.header_row == 3
    assert [(r.row, r.status) for r in report.rows] == [(4, "new"), (5, "new")]
    assert [(s.row, s.reason) for s in report.skipped] == [
        (6, "blank"),
        (7, "totals"),
        (8, "signature"),
    ]
    assert "填表人" in report.skipped[-1].text and report.skipped[-1].text.count("填表人") == 1
    assert report.ignored_columns == ["序号", "性别"]
    assert _values(report, "earliest_date") == [date(2026, 3, 3)] * 2


@pytest.mark.parametrize(
    ("county", "destination", "county_id_", "site_id"),
    [
        ("洪洞", "江苏昆山", "hongtong", "js-kunshan"),
        ("临汾市洪洞县", "昆山市", "hongtong", "js-kunshan"),
        ("山西省临汾市洪洞县甘亭镇", "昆山", "hongtong", "js-kunshan"),
        ("尧都", "上海市松江区", "yaodu", "sh-songjiang"),
        ("hongtong", "js-taicang", "hongtong", "js-taicang"),
    ],
)
def test_places_as_offices_write_them(demo_app, county, destination, county_id_, site_id):
    report = _preview(demo_app, county_sheet_xlsx([person(1, "甲", county, destination)]), "p.xlsx")
    [row] = report.rows
    assert row.status == "new", row.errors
    assert (row.values["county_id"], row.values["destination_site_id"]) == (county_id_, site_id)


def test_an_ambiguous_place_is_an_error_listing_the_choices(demo_app):
    report = _preview(demo_app, county_sheet_xlsx([person(1, "甲", "洪洞", "苏州")]), "a.xlsx")
    [row] = report.rows
    assert row.status == "error" and "苏州工业园区" in row.errors["destination"]


def test_header_variants_in_any_order(demo_app):
    headers = [
        "联系方式",
        "公民身份号码",
        "名字",
        "户籍所在地",
        "务工地点",
        "企业名称",
        "上车地点",
        "出发日期",
        "备 注",
    ]
    rows = [["13903580001", county_id(1), "乙", "洪洞县", "昆山市", "", "洪洞县", "2026/3/4", "x"]]
    report = _preview(demo_app, csv_bytes(rows, headers), "v.csv", dates=None)
    [row] = report.rows
    assert row.status == "new", row.errors
    assert row.values["earliest_date"] == date(2026, 3, 4) and row.values["notes"] == "x"


def test_a_date_in_the_file_wins_over_the_one_chosen(demo_app):
    headers = ["姓名", "身份证号码", "手机", "户籍地", "务工地", "计划出发日期"]
    rows = [
        ["甲", county_id(1), "13903580001", "洪洞", "昆山", "2026-03-09"],
        ["乙", county_id(2), "13903580002", "洪洞", "昆山", ""],
    ]
    report = _preview(demo_app, csv_bytes(rows, headers), "d.csv")
    assert _values(report, "earliest_date") == [date(2026, 3, 9), date(2026, 3, 3)]


def test_a_missing_column_names_the_headers_found_and_those_accepted(demo_app):
    data = csv_bytes([["甲", "13903580001"]], ["姓名", "手机号码", "籍贯"])
    with pytest.raises(worker_import.ImportFileError) as refused:
        _preview(demo_app, data, "m.csv")
    message = str(refused.value)
    assert "身份证号" in message and "公民身份号码" in message  # the names it accepts
    assert "籍贯" in message and "第 1 行" in message  # the headers it found, and where
    with pytest.raises(worker_import.ImportFileError) as refused:
        _preview(demo_app, csv_bytes([["x"]], ["甲", "乙"]), "none.csv")
    assert "表头" in str(refused.value)


def test_a_sheet_without_dates_asks_for_one(demo_app):
    with pytest.raises(worker_import.ImportFileError) as refused:
        _preview(demo_app, county_sheet_xlsx([person(1, "甲")]), "n.xlsx", dates=None)
    assert "最早出发日期" in str(refused.value) and "导入页面" in str(refused.value)


def test_merged_cells_give_their_value_to_every_row_they_cover(demo_app):
    rows = county_sheet_rows([person(n, f"人{n}", destination="") for n in (1, 2, 3)])
    rows[3][HEADERS.index("务工地")] = "江苏太仓"
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.active.merge_cells("G4:G6")  # 务工地, written once for three people
    out = io.BytesIO()
    book.save(out)
    report = _preview(demo_app, out.getvalue(), "merged.xlsx")
    assert _values(report, "destination_site_id") == ["js-taicang"] * 3


def test_an_old_xls_sheet_reads_like_the_xlsx(demo_app):
    report = _preview(demo_app, XLS_FIXTURE.read_bytes(), XLS_FIXTURE.name)
    assert [r.name for r in report.rows] == [name for _n, name, _c, _d in XLS_PEOPLE]
    assert {r.status for r in report.rows} == {"new"}
    assert [s.reason for s in report.skipped] == ["blank", "totals", "signature"]


def test_a_row_already_registered_is_named_only_within_scope(demo_app):
    from sqlalchemy import select

    from dispatch.extensions import db
    from dispatch.models import Worker

    with demo_app.app_context():
        other = db.session.scalar(select(Worker).filter_by(county_id="yaodu").limit(1))
        mine = db.session.scalar(select(Worker).filter_by(county_id="hongtong").limit(1))
        people = [
            person(1, "别县", "尧都区", id_number=other.id_number),
            person(2, "本县", id_number=mine.id_number),
        ]
        expected = {"id": mine.id, "name": mine.name}
    report = _preview(demo_app, county_sheet_xlsx(people), "e.xlsx", scope={"hongtong"})
    assert [r.registered_as for r in report.rows] == [{}, expected]


def test_the_command_takes_the_date_and_lists_the_skipped_rows(demo_app, tmp_path):
    sheet = tmp_path / "登记表.xlsx"
    sheet.write_bytes(county_sheet_xlsx([person(1, "郭建军")]))
    runner = demo_app.test_cli_runner()
    refused = runner.invoke(args=["workers", "import", str(sheet)])
    assert refused.exit_code != 0 and "最早出发日期" in refused.output
    result = runner.invoke(
        args=["workers", "import", str(sheet), "--date", "2026-03-03", "--commit"]
    )
    assert result.exit_code == 0, result.output
    assert "row 4\tnew\t郭建军" in result.output and "合计" in result.output
    assert "ignored columns: 序号, 性别" in result.output and "Written: 1." in result.output


def _without_county(people: list[list]) -> bytes:
    """A county office's own list: no county column (it is all theirs), notes in the headers."""
    headers = ["序号", "姓名", "性别", "身份证号码（18位）", "联系电话（手机）", "务工地点"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["洪洞县2026年春季务工人员花名册"])
    sheet.append(headers)
    for p in people:
        sheet.append([p[0], p[1], p[2], p[4], p[5], p[6]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_county_coordinators_own_list_needs_no_county_column(demo_app):
    """A 洪洞县 coordinator's sheet without 户籍县区 was refused ("缺少列：户籍县区"), and
    headers with a note in brackets (身份证号码（18位）) were not recognised."""
    data = _without_county([person(1, "郭建军"), person(2, "贾秀英")])
    mine = _preview(demo_app, data, "花名册.xlsx", scope={"hongtong"})
    assert [(r.status, r.values.get("county_id")) for r in mine.rows] == [("new", "hongtong")] * 2
    assert _values(mine, "phone") == ["+8613903580001", "+8613903580002"]
    with pytest.raises(worker_import.ImportFileError) as refused:  # several counties: which?
        _preview(demo_app, data, "花名册.xlsx")
    assert "户籍县区" in str(refused.value)
