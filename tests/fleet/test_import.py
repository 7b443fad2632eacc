"""The operators' coach list: per-row report naming row and field; re-importing changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.models import AuditEvent, Coach, Driver, Operator
from tests.support.apps import make_app
from tests.support.fleet import BAD_ROWS, GOOD_ROWS, coach_sheet, fresh_deployment


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        fresh_deployment()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_cli_checks_imports_and_reimports_nothing(app, tmp_path):
    runner, sheet = (
        app.test_cli_runner(),
        coach_sheet(tmp_path / "fleet.xlsx", GOOD_ROWS + BAD_ROWS),
    )
    checked = runner.invoke(args=["fleet", "import", sheet])
    assert checked.exit_code == 0, checked.output
    lines = checked.output.splitlines()
    assert lines[0].startswith("row 2\tnew\t晋L·A1234") and lines[1].startswith(
        "row 3\tnew\t晋L·B5678"
    )
    assert lines[2].startswith("row 4\terror") and "plate:" in lines[2]
    assert (
        "coach_type:" in lines[3] and "driver1:" in lines[3] and "certificate_expires:" in lines[3]
    )
    assert lines[4].startswith("row 6\terror") and "前面的行中已出现" in lines[4]
    assert "2 new, 0 changed, 0 unchanged, 3 with errors." in checked.output
    assert _count(app, Coach) == 0  # nothing written without --commit
    written = runner.invoke(args=["fleet", "import", sheet, "--commit"])
    assert "Written: 2 added, 0 changed, 4 drivers added." in written.output
    with app.app_context():
        coach = db.session.scalar(select(Coach).filter_by(plate="晋L·B5678"))
        assert (
            coach.coach_type_id == "c45"
            and coach.driver2.name == "赵春兰"
            and coach.operator_ref.name == "临汾长运"
        )
        assert coach.certificate_expires.isoformat() == "2027-06-30"
        audits = db.session.scalar(select(func.count()).select_from(AuditEvent))
    again = runner.invoke(args=["fleet", "import", sheet, "--commit"])
    assert (
        "0 new, 0 changed, 2 unchanged" in again.output
        and "Written: 0 added, 0 changed, 0 drivers added." in again.output
    )
    assert (_count(app, Coach), _count(app, Driver), _count(app, Operator)) == (2, 4, 1)
    assert _count(app, AuditEvent) == audits  # nothing changed, nothing audited


def test_a_changed_row_updates_the_coach(app, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["fleet", "import", coach_sheet(tmp_path / "a.xlsx", GOOD_ROWS), "--commit"])
    changed = [GOOD_ROWS[0][:7] + ["晋交运管临字141000009", "2028-01-31"], GOOD_ROWS[1]]
    result = runner.invoke(
        args=["fleet", "import", coach_sheet(tmp_path / "b.xlsx", changed), "--commit"]
    )
    assert "0 new, 1 changed, 1 unchanged" in result.output
    with app.app_context():
        coach = db.session.scalar(select(Coach).filter_by(plate="晋L·A1234"))
        assert coach.certificate_no == "晋交运管临字141000009"


def test_a_list_without_plates_is_refused_whole(app, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("姓名,电话\n张三,13800138000\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["fleet", "import", str(path)])
    assert result.exit_code != 0 and "车牌号" in result.output


@pytest.mark.parametrize("written", ["2027年6月30日", "2027/6/30", "20270630", "2027-06-30"])
def test_a_certificates_date_reads_as_an_operators_sheet_writes_it(app, written):
    """2027年5月1日 was refused in an operator's sheet ("请按 2026-12-31 的格式填写日期")."""
    from datetime import date, datetime

    from dispatch.services.fleet_fields import day

    with app.app_context():
        assert day(written) == date(2027, 6, 30)
        assert day(datetime(2027, 6, 30)) == date(2027, 6, 30)  # a spreadsheet's date cell
        with pytest.raises(ValueError):
            day("6月30日")
