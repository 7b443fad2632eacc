"""Exports: masked by default, full for admins only (audited), never a formula."""

from __future__ import annotations

import csv
import io

import openpyxl

from dispatch.services.worker_export import safe_text
from tests.support.workers import audit_actions, workers_where


def _xlsx_rows(data: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = [list(row) for row in book.worksheets[0].iter_rows()]
    book.close()
    return rows


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese text correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_export_is_masked_and_filtered(admin_client, demo_app):
    hongtong = workers_where(demo_app, county_id="hongtong")
    response = admin_client.get("/workers/export.csv?county=hongtong")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response.data)
    assert rows[0][:3] == ["姓名", "身份证号", "手机号"]
    assert len(rows) == len(hongtong) + 1
    text = response.data.decode("utf-8-sig")
    for worker in hongtong:
        assert worker.id_number not in text and worker.phone[3:] not in text
    assert all("*" in row[1] and "*" in row[2] for row in rows[1:])
    assert "worker.export" in audit_actions(demo_app)


def test_xlsx_export_is_masked_and_all_text(admin_client, demo_app):
    rows = _xlsx_rows(admin_client.get("/workers/export.xlsx").data)
    assert len(rows) == 201
    assert all(cell.data_type == "s" for row in rows for cell in row if cell.value is not None)
    ids = {w.id_number for w in workers_where(demo_app)}
    assert not ids & {row[1].value for row in rows}


def test_full_export_is_for_admins_only_and_audited(client, demo_app):
    from tests.support.apps import COORD_PASSWORD, login

    login(client, "hong", COORD_PASSWORD)
    assert client.get("/workers/export.xlsx?full=1").status_code == 403
    assert client.get("/workers/export.csv?full=1").status_code == 403
    rows = _csv_rows(client.get("/workers/export.csv").data)  # masked, and own county only
    assert len(rows) == len(workers_where(demo_app, county_id="hongtong")) + 1
    client.post("/logout")
    login(client)
    rows = _csv_rows(client.get("/workers/export.csv?full=1").data)
    ids = {w.id_number for w in workers_where(demo_app)}
    assert {row[1] for row in rows[1:]} == ids
    assert all(row[2].isdigit() and len(row[2]) == 11 for row in rows[1:])
    from sqlalchemy import select

    from dispatch.extensions import db
    from dispatch.models import AuditEvent

    with demo_app.app_context():
        events = db.session.scalars(select(AuditEvent).filter_by(action="worker.export")).all()
        assert [e.detail["full"] for e in events] == [False, True]


def test_cells_that_start_a_formula_are_text(admin_client, demo_app):
    from dispatch.extensions import db
    from dispatch.models import Worker

    with demo_app.app_context():
        worker = db.session.query(Worker).filter_by(county_id="hongtong").first()
        worker.name, worker.notes, worker.township = "=1+1", "-2+3", "+cmd|' /C calc'!A0"
        worker.group_code = "@SUM(A1)"
        db.session.commit()
    rows = _xlsx_rows(admin_client.get("/workers/export.xlsx?q=%3D1%2B1").data)
    assert len(rows) == 2
    row = rows[1]
    assert row[0].data_type == "s" and row[0].value.endswith("=1+1")
    assert all(cell.data_type == "s" for cell in row if cell.value is not None)
    [csv_row] = _csv_rows(admin_client.get("/workers/export.csv?q=%3D1%2B1").data)[1:]
    assert csv_row[0] == "'=1+1" and csv_row[4] == "'+cmd|' /C calc'!A0"
    assert csv_row[10] == "'@SUM(A1)" and csv_row[12] == "'-2+3"
    assert safe_text("\t=1") == "'\t=1" and safe_text("普通") == "普通"


def test_unknown_export_format_is_404(admin_client):
    assert admin_client.get("/workers/export.pdf").status_code == 404


def test_an_export_reads_its_workers_in_a_few_queries_however_many(admin_client, demo_app):
    """The rows are written from the workers as loaded: the audit's commit, when it came first,
    expired them and every row reloaded its worker (100,000 workers: 92 s as CSV, 144 s as
    xlsx, past the 60 s a request may take)."""
    from sqlalchemy import event, func, select

    from dispatch.extensions import db
    from dispatch.models import Worker

    with demo_app.app_context():
        engine, total = db.engine, db.session.scalar(select(func.count()).select_from(Worker))
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for fmt in ("csv", "xlsx"):
            statements.clear()
            response = admin_client.get(f"/workers/export.{fmt}")
            rows = _csv_rows(response.data) if fmt == "csv" else _xlsx_rows(response.data)
            assert len(rows) == total + 1 and total > 100
            assert len(statements) < 20, (fmt, len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
