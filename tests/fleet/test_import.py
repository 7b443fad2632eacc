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


def test_an_operators_own_list_with_its_headers_title_and_total(app, tmp_path):
    """主驾姓名, 副驾姓名, 所属公司, 证件有效期 were not recognised (every row then failed on
    "驾驶员1：缺少驾驶员姓名"), the total line was an error row, and 2027年6月30日 was refused."""
    import openpyxl

    from dispatch.services import fleet_import

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["临汾长运集团2026年春运包车车辆表"])
    sheet.append(
        [
            "序号",
            "车牌号",
            "核定座位数（座）",
            "所属公司",
            "主驾姓名",
            "主驾手机",
            "副驾姓名",
            "副驾联系电话",
            "证件有效期",
        ]
    )
    sheet.append([1, "晋LC5566", 53, "临汾长运", "张建国", "13800138011", "李志红", "13800138012",
                  "2027年6月30日"])  # fmt: skip
    sheet.append([2, "晋LC5567", 45, "临汾长运", "王强", "13800138013", "", "", "2027年6月30日"])
    sheet.append(["合计", "2辆", None, None, None, None, None, None, None])
    path = tmp_path / "车辆表.xlsx"
    book.save(path)
    with app.app_context():
        report = fleet_import.preview(path.name, path.read_bytes())
    assert [(r.row, r.status) for r in report.rows] == [(3, "new"), (4, "new")]
    first = report.rows[0].values
    assert first["operator"] == "临汾长运" and first["certificate_expires"] == "2027-06-30"
    assert first["driver2"] == {"name": "李志红", "phone": "+8613800138012"}
    assert report.rows[1].values["coach_type"] == "c45"


def test_an_unknown_coach_type_names_what_was_written(app, tmp_path):
    from dispatch.services import fleet_import

    rows = [["晋LD1234", "大巴", "临汾长运", "", "", "", "", "", ""]]
    path = coach_sheet(tmp_path / "t.xlsx", rows)
    with app.app_context(), open(path, "rb") as handle:
        report = fleet_import.preview("t.xlsx", handle.read())
    assert "“大巴”" in report.rows[0].errors["coach_type"]
    assert "53座大型客车" in report.rows[0].errors["coach_type"]
