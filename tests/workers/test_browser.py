"""In real Chromium: upload a file, read the preview's errors in Chinese, confirm, see the workers."""

from __future__ import annotations

import pytest

from tests.support.apps import COORD_PASSWORD
from tests.support.workers import as_cells, id_number, worker_row, xlsx_bytes

pytestmark = pytest.mark.browser


def _log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.locator('button[type="submit"]').click()
    page.wait_for_url("**/")


def test_import_preview_shows_errors_in_chinese_then_confirms(page, tmp_path):
    rows = [
        as_cells(worker_row(1, name="浏览器甲")),
        as_cells(worker_row(2, name="浏览器乙", id_number=id_number(2)[:17] + "Y")),
        as_cells(worker_row(3, name="浏览器丙", phone="0357-2345678")),
        as_cells(worker_row(4, name="浏览器丁")),
    ]
    upload = tmp_path / "名单.xlsx"
    upload.write_bytes(xlsx_bytes(rows))
    _log_in(page, "hong", COORD_PASSWORD)
    page.goto("/workers/import")
    page.locator("#f-file").set_input_files(str(upload))
    page.locator('form button[type="submit"]').click()
    page.locator("#import-errors").wait_for()
    assert page.locator("#count-new").inner_text() == "2"
    assert page.locator("#count-error").inner_text() == "2"
    cells = page.locator("#import-errors tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].slice(0, 3).map(c => c.innerText))"
    )
    assert sorted(cells) == [["3", "浏览器乙", "身份证号"], ["4", "浏览器丙", "手机号"]]
    page.locator('form[action$="/commit"] button[type="submit"]').click()
    page.wait_for_url("**/workers/")
    names = page.locator("#workers tbody td:first-child").all_inner_texts()
    assert "浏览器甲" in names and "浏览器丁" in names
    assert "浏览器乙" not in names and "浏览器丙" not in names
