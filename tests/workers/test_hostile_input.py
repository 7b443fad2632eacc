"""Input that used to end in a 500 (or in a half-saved import) answers with a clear message on
its field or file instead, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from dispatch.extensions import db
from dispatch.services import worker_import, worker_sheets
from dispatch.services.import_previews import PreviewStore
from dispatch.services.worker_fields import Lookups, clean_worker
from tests.support.apps import login, make_app, seed_demo
from tests.support.workers import (
    HEADERS,
    as_cells,
    csv_bytes,
    id_number,
    token_for,
    worker_count,
    worker_row,
    workers_where,
)


@pytest.fixture
def any_db_app(tmp_path, db_url) -> Iterator:
    """The reference data and the demo users on SQLite, then on PostgreSQL."""
    app = make_app(tmp_path, db_url)
    with app.app_context():
        seed_demo(workers=0)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def admin(any_db_app):
    client = any_db_app.test_client()
    login(client)
    return client


def _form(n: int, **changes) -> dict:
    return {k: v for k, v in worker_row(n, **changes).items() if v != ""}


def _upload(client, data: bytes, filename: str, **fields):
    return client.post(
        "/workers/import",
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def _commit_url(html: str) -> str:
    return re.search(r'action="(/workers/import/[^"]+/commit)"', html).group(1)


def _error_fields(html: str) -> list[tuple[int, str]]:
    table = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return [
        (int(r), f)
        for r, f in re.findall(r'<td class="num">(\d+)</td><td>[^<]*</td><td>([^<]*)</td>', table)
    ]


def test_control_characters_are_refused_on_their_field(any_db_app, admin):
    for field, value in (("name", "张\x00三"), ("township", "东关\x1b村"), ("group", "A\x07")):
        response = admin.post("/workers/new", data=_form(1, **{field: value}))
        # refused on its field by the worker rules, or before them by the site-wide guard
        assert response.status_code in (200, 400), field
        assert "控制字符" in response.get_data(as_text=True), field
    assert worker_count(any_db_app) == 0
    response = admin.post("/workers/new", data=_form(1, notes="第一行\r\n第二行\t末尾"))
    assert response.status_code == 302  # tabs and line breaks in notes are tidied, not refused
    [worker] = workers_where(any_db_app, id_number=id_number(1))
    assert worker.notes == "第一行\n第二行 末尾"


def test_a_lone_surrogate_is_refused_by_the_api_and_the_rules(any_db_app):
    client = any_db_app.test_client()
    fields = {**worker_row(2), "name": "@SURROGATE@"}
    body = json.dumps(fields).replace("@SURROGATE@", "\\ud800")  # JSON may carry half a pair
    response = client.post(
        "/api/v1/workers",
        data=body,
        headers={**token_for(any_db_app, "admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and "name" in response.get_json()["fields"]
    with any_db_app.app_context():
        assert "name" in clean_worker(worker_row(2, name="\ud800"), Lookups.load()).errors
    assert worker_count(any_db_app) == 0


def test_control_characters_in_csv_cells_are_row_errors(any_db_app, admin):
    rows = [
        as_cells(worker_row(3, name="好人")),
        as_cells(worker_row(4, name="坏\x00人")),
        as_cells(worker_row(5, township="村\x0b组")),
    ]
    html = _upload(admin, csv_bytes(rows), "nul.csv").get_data(as_text=True)
    assert sorted(_error_fields(html)) == [(3, "姓名"), (4, "乡镇村")]
    assert admin.post(_commit_url(html)).status_code == 302
    assert [w.name for w in workers_where(any_db_app)] == ["好人"]


def _dated_workbook(values: list) -> bytes:
    """A 1904-based workbook (Excel for Mac): one good row per value of 最早出发日期."""
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(HEADERS)
    for n, value in enumerate(values, start=6):
        cells = as_cells(worker_row(n, latest_date=""))
        cells[HEADERS.index("earliest_date")] = value
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_1904_workbooks_and_absurd_dates_are_field_errors(any_db_app, admin):
    data = _dated_workbook([datetime(2026, 3, 2), 2_958_465, 2_900_000, "9999-12-31", "2958466"])
    response = _upload(admin, data, "mac.xlsx")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _error_fields(html) == [(n, "最早出发日期") for n in (3, 4, 5, 6)]
    assert admin.post(_commit_url(html)).status_code == 302
    [worker] = workers_where(any_db_app)
    assert worker.earliest_date.isoformat() == "2026-03-02"  # counted from 1904, as Excel does


def test_the_form_refuses_a_far_year_on_its_field(any_db_app, admin):
    response = admin.post("/workers/new", data=_form(7, earliest_date="9999-01-01"))
    assert response.status_code == 200 and 'id="err-earliest_date"' in response.get_data(True)
    assert worker_count(any_db_app) == 0


def test_the_list_and_its_exports_take_control_characters_in_filters(any_db_app, admin):
    for url in ("/workers/?q=%00abc&county=%00", "/workers/export.csv?q=%00&day=%00"):
        assert admin.get(url).status_code in (200, 400), url  # never a 500


def test_confirming_twice_imports_once_and_says_so(any_db_app, admin):
    data = csv_bytes([as_cells(worker_row(n)) for n in (8, 9)])
    url = _commit_url(_upload(admin, data, "twice.csv").get_data(as_text=True))
    assert admin.post(url).status_code == 302
    second = admin.post(url, follow_redirects=True)
    assert second.status_code == 200 and "已导入过" in second.get_data(as_text=True)
    assert worker_count(any_db_app) == 2


def test_only_one_of_two_simultaneous_confirmations_claims_the_preview(tmp_path):
    store = PreviewStore(tmp_path)
    token = store.store(worker_import.ImportReport([]))
    claims: list = []
    threads = [threading.Thread(target=lambda: claims.append(store.claim(token))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(c is not None for c in claims) == 1
    store.finish(token, 1, 5)
    assert store.outcome(token, 1) == 5 and store.outcome(token, 2) is None


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


WORKBOOK = {
    "xl/workbook.xml": '<workbook xmlns:r="r"><sheets><sheet r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<Relationships><Relationship Id="rId1" '
    'Target="worksheets/sheet1.xml"/></Relationships>',
}


@pytest.mark.parametrize(
    "part",
    [
        {
            "xl/sharedStrings.xml": "<sst>" + "<si><t>x</t></si>" * 1_200_000 + "</sst>",
            "xl/worksheets/sheet1.xml": "<worksheet><sheetData/></worksheet>",
        },
        {
            "xl/worksheets/sheet1.xml": '<worksheet><sheetData><row r="1">'
            + '<c r="A1"/>' * 1_050_000
            + "</row></sheetData></worksheet>"
        },
    ],
    ids=["shared-strings", "empty-cells"],
)
def test_a_small_file_holding_millions_of_strings_or_cells_is_refused_quickly(demo_app, part):
    data = _zip({**WORKBOOK, **part})
    assert len(data) < 1_000_000
    started = time.monotonic()
    with demo_app.app_context(), pytest.raises(worker_import.ImportFileError) as refused:
        worker_import.preview("bomb.xlsx", data, Lookups.load())
    assert time.monotonic() - started < 15  # (the read stops after 10 s at the latest)
    assert "新工作簿" in str(refused.value) or "new workbook" in str(refused.value)


def test_a_slow_workbook_is_stopped_by_the_clock(demo_app, monkeypatch):
    monkeypatch.setattr(worker_sheets, "MAX_READ_SECONDS", 0.0)
    monkeypatch.setattr(worker_sheets, "CHECK_EVERY", 1)
    data = csv_bytes([as_cells(worker_row(1))])
    with demo_app.app_context():
        xlsx = openpyxl.Workbook()
        xlsx.active.append(HEADERS)
        out = io.BytesIO()
        xlsx.save(out)
        with pytest.raises(worker_import.ImportFileError):
            worker_import.preview("slow.xlsx", out.getvalue(), Lookups.load())
        assert worker_import.preview("quick.csv", data, Lookups.load()).count("new") == 1
