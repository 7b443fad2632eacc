"""Journeys through the worker pages in real Chromium, as coordinators use them: register from
the lists, correct, filter, export, import a county's own sheet, withdraw and register again."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.identity import make_id_number
from dispatch.models import AuditEvent, County, Employer, Worker
from dispatch.services import accounts
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.worker_sheets import (
    XLS_FIXTURE,
    XLS_PEOPLE,
    county_id,
    county_sheet_xlsx,
    person,
)

pytestmark = pytest.mark.browser

NEW_ID = make_id_number("141024", date(1992, 7, 9), 88)  # Hongtong, not in the demo data


def _city_coordinator(app) -> None:
    """A coordinator of the city: every county of Linfen."""
    with app.app_context():
        counties = db.session.scalars(select(County.id)).all()
        accounts.create_user("city", "coordinator", COORD_PASSWORD, counties)
        db.session.commit()


def _workers(app, **criteria) -> list[Worker]:
    with app.app_context():
        found = db.session.scalars(select(Worker).filter_by(**criteria)).all()
        db.session.expunge_all()
        return list(found)


def _demo_worker(app, county: str) -> Worker:
    with app.app_context():
        worker = db.session.scalar(select(Worker).filter_by(county_id=county).limit(1))
        db.session.expunge_all()
        return worker


def _employers_of(app, site_id: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Employer.name).filter_by(site_id=site_id)))


def _options(page, selector: str) -> list[str]:
    """The choices a person can see and pick in a list (blank and hidden ones left out)."""
    return page.locator(selector).evaluate(
        "s => [...s.options].filter(o => o.value && !o.hidden && !o.disabled).map(o => o.text)"
    )


def test_city_coordinator_registers_corrects_filters_and_exports(demo_app, journey, shot):
    _city_coordinator(demo_app)
    page = journey
    log_in(page, "city", COORD_PASSWORD)
    page.goto("/workers/")
    page.get_by_role("link", name="登记人员").click()
    assert len(_options(page, "#f-county")) == 17 and "洪洞县" in _options(page, "#f-county")
    assert _options(page, "#f-employer") == []  # employers follow the destination
    assert page.get_by_label("同行组代码").get_attribute("placeholder") == "代码相同者同车"
    page.get_by_label("姓名").fill("贺春梅")
    page.get_by_label("身份证号").fill(NEW_ID)
    page.get_by_label("手机号").fill("13903581234")
    page.get_by_label("户籍县区").select_option(label="洪洞县")
    assert _options(page, "#f-pickup_point") == ["洪洞县人社局门前广场"]  # where to stand
    page.get_by_label("目的地").select_option(label="昆山市")
    employers = _options(page, "#f-employer")
    assert sorted(employers) == sorted(_employers_of(demo_app, "js-kunshan")) and employers
    page.get_by_label("用工单位").select_option(label=employers[0])
    page.get_by_label("最早出发日期").fill("2026-03-02")
    shot(page, "register-filled")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url("**/workers/")
    assert "已登记 贺春梅" in page.locator(".flash-success").inner_text()

    # the list's filters, as a person sets them
    filters = page.locator("#worker-filters")
    filters.get_by_label("搜索").fill("贺春梅")
    filters.get_by_label("县区").select_option(label="洪洞县")
    filters.get_by_label("目的地").select_option(label="昆山市")
    filters.get_by_label("状态").select_option(label="已登记")
    filters.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"q=.+county=hongtong"))
    assert page.locator("#workers tbody tr").count() == 1
    shot(page, "list-filtered")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 .csv").click()
    exported = download.value.path().read_bytes().decode("utf-8-sig")
    assert "贺春梅" in exported and NEW_ID not in exported  # masked
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 .xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # open her, correct the phone
    page.get_by_role("link", name="贺春梅").click()
    assert page.get_by_label("用工单位").input_value() != ""  # the employer chosen is shown
    page.get_by_label("手机号").fill("13903585678")
    page.get_by_role("button", name="保存").click()
    assert "已保存" in page.locator(".flash-success").inner_text()
    assert page.get_by_label("手机号").input_value() == "+8613903585678"
    shot(page, "corrected")

    # a bad ID number: the error in Chinese on the field, what was typed kept
    page.get_by_label("身份证号").fill(NEW_ID[:17] + ("1" if NEW_ID[-1] != "1" else "2"))
    page.get_by_label("手机号").fill("13903589999")
    page.get_by_role("button", name="保存").click()
    assert page.locator("#err-id_number").inner_text() == "身份证号校验位不正确，请逐位核对。"
    assert page.get_by_label("手机号").input_value() == "13903589999"
    shot(page, "bad-id")
    [saved] = _workers(demo_app, id_number=NEW_ID)
    assert saved.phone == "+8613903585678" and saved.employer_id is not None


def test_a_county_sheet_imports_as_it_comes_and_an_old_xls_too(demo_app, journey, shot, tmp_path):
    _city_coordinator(demo_app)
    known = _demo_worker(demo_app, "hongtong")
    employer = _employers_of(demo_app, "js-kunshan")[0]
    people = [
        person(1, "郭建军", "洪洞", "江苏昆山", employer),
        person(2, "贾秀英", "临汾市洪洞县", "昆山市", "", ""),
        person(3, "范志强", "洪洞县", "昆山"),
        person(4, known.name, "洪洞县", "昆山", id_number=known.id_number),
    ]
    sheet = tmp_path / "洪洞县春风行动登记表.xlsx"
    sheet.write_bytes(county_sheet_xlsx(people))
    page = journey
    log_in(page, "city", COORD_PASSWORD)
    page.goto("/workers/")
    page.get_by_role("link", name="从 Excel 导入").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载导入模板")).click()
    assert download.value.suggested_filename == "worker-import-template.xlsx"
    page.get_by_label("文件").set_input_files(str(sheet))
    page.get_by_role("button", name="检查文件").click()
    assert (
        "最早出发日期" in page.locator(".flash-error").inner_text()
    )  # no date column, none chosen
    assert "出发日期" in page.locator(".flash-error").inner_text()  # and the names it accepts
    shot(page, "no-date")

    page.get_by_label("文件").set_input_files(str(sheet))
    page.get_by_label("最早出发日期").fill("2026-03-03")
    page.get_by_label("最晚出发日期").fill("2026-03-05")
    page.get_by_role("button", name="检查文件").click()
    page.locator("#import-preview").wait_for()
    shot(page, "preview")
    assert page.locator("#count-new").inner_text() == "3"
    assert page.locator("#count-existing").inner_text() == "1"
    assert page.locator("#count-error").inner_text() == "0"
    assert "序号" in page.locator("#ignored-columns").inner_text()
    assert "性别" in page.locator("#ignored-columns").inner_text()
    skipped = page.locator("#import-skipped tbody tr").all_inner_texts()
    assert any("合计" in row for row in skipped) and any("填表人" in row for row in skipped)
    assert page.locator("#import-existing").get_by_role("link", name=known.name).count() == 1
    new_rows = page.locator("#import-new tbody").inner_text()
    assert "郭建军" in new_rows and "昆山市" in new_rows and "2026-03-03 – 2026-03-05" in new_rows
    page.get_by_role("button", name=re.compile("确认")).click()
    page.wait_for_url("**/workers/")
    assert "3" in page.locator(".flash-success").inner_text()
    names = page.locator("#workers tbody td:first-child").all_inner_texts()
    assert {"郭建军", "贾秀英", "范志强"} <= set(names)
    [guo] = _workers(demo_app, id_number=county_id(1))
    assert guo.employer_id is not None and guo.latest_date == date(2026, 3, 5)

    # the same office's older sheet, saved by Excel 2003
    page.get_by_role("link", name="从 Excel 导入").click()
    page.get_by_label("文件").set_input_files(str(XLS_FIXTURE))
    page.get_by_label("最早出发日期").fill("2026-03-04")
    page.get_by_role("button", name="检查文件").click()
    assert page.locator("#count-new").inner_text() == str(len(XLS_PEOPLE))
    shot(page, "preview-xls")
    page.get_by_role("button", name=re.compile("确认")).click()
    page.wait_for_url("**/workers/")
    names = page.locator("#workers tbody td:first-child").all_inner_texts()
    assert {name for _n, name, _c, _d in XLS_PEOPLE} <= set(names)


def test_a_county_coordinator_works_in_his_county_only(demo_app, journey, shot, tmp_path):
    other = _demo_worker(demo_app, "yaodu")
    people = [
        person(5, "洪洞人", "洪洞县", "昆山"),
        person(6, "尧都人", "尧都区", "昆山", pickup="尧都区"),
        person(7, "别县老人", "尧都区", "昆山", id_number=other.id_number),
    ]
    sheet = tmp_path / "混合.xlsx"
    sheet.write_bytes(county_sheet_xlsx(people))
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto("/workers/new")
    assert _options(page, "#f-county") == ["洪洞县"]
    page.goto("/workers/")
    assert _options(page, "#worker-filters select[name=county]") == ["洪洞县"]
    page.get_by_role("link", name="从 Excel 导入").click()
    page.get_by_label("文件").set_input_files(str(sheet))
    page.get_by_label("最早出发日期").fill("2026-03-03")
    page.get_by_role("button", name="检查文件").click()
    page.locator("#import-preview").wait_for()
    shot(page, "preview-other-county")
    errors = page.locator("#import-errors tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    assert errors == [["5", "尧都人", "户籍县区", "只能登记您负责县区的人员。"]]
    existing = page.locator("#import-existing tbody").inner_text()
    assert other.name not in existing and "其他县区" in existing  # registered elsewhere, unnamed
    page.get_by_role("button", name=re.compile("确认")).click()
    page.wait_for_url("**/workers/")
    assert _workers(demo_app, id_number=county_id(6)) == []
    assert len(_workers(demo_app, id_number=county_id(5))) == 1


def _seated_worker(app) -> Worker:
    """A Hongtong worker with a seat on a published bus (the demo planned and published)."""
    from dispatch.models import SeatAssignment
    from dispatch.services.seats import live_seat

    runner = app.test_cli_runner()
    window = ["--from", "2026-02-28", "--to", "2026-03-03", "--time-limit", "2"]
    planned = runner.invoke(args=["plan", "run", *window])
    assert planned.exit_code == 0, planned.output
    published = runner.invoke(args=["plan", "publish", planned.output.split()[0]])
    assert published.exit_code == 0, published.output
    with app.app_context():
        seated = select(Worker).join(SeatAssignment, SeatAssignment.worker_id == Worker.id)
        worker = db.session.scalars(seated.where(Worker.county_id == "hongtong")).first()
        assert live_seat(worker.id) is not None
        db.session.expunge_all()
        return worker


def test_withdrawing_asks_first_and_says_what_happens(demo_app, journey, shot):
    from dispatch.services.seats import live_seat

    worker = _seated_worker(demo_app)
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/workers/{worker.id}")
    page.get_by_role("link", name="撤销登记…").click()
    confirm = page.locator("#withdraw-confirm")
    assert worker.name in confirm.inner_text()
    assert "座位将被释放" in confirm.inner_text() and "变更短信" in confirm.inner_text()
    shot(page, "confirm")
    confirm.get_by_role("link", name=re.compile("保留")).click()
    assert _workers(demo_app, id=worker.id)[0].status != "cancelled"
    page.get_by_role("link", name="撤销登记…").click()
    page.get_by_role("button", name=re.compile("确认撤销")).click()
    assert worker.name in page.locator(".flash-success").inner_text()
    assert page.locator("h1 .badge").inner_text() == "已撤销"
    assert page.get_by_role("link", name="撤销登记…").count() == 0
    assert page.get_by_label("手机号").is_disabled()  # a withdrawn record is read only
    shot(page, "withdrawn")
    assert _workers(demo_app, id=worker.id)[0].status == "cancelled"
    with demo_app.app_context():
        assert live_seat(worker.id) is None  # the seat is free for someone else

    # a mistake, or the worker changes their mind: registered again, waiting for a seat (the ID
    # number is taken by this record, so registering anew is refused)
    reinstate = page.locator("#reinstate")
    expect(reinstate).to_contain_text("恢复登记后，此人等待安排座位")
    with page.expect_navigation():
        reinstate.get_by_role("button", name="恢复登记").click()
    expect(page.locator(".flash-success")).to_have_text(f"{worker.name} 已恢复登记，等待安排座位。")
    expect(page.locator("h1 .badge")).to_have_text("已登记")
    expect(page.get_by_label("手机号")).to_be_enabled()
    expect(page.get_by_role("link", name="撤销登记…")).to_be_visible()
    expect(page.locator("#reinstate")).to_have_count(0)
    shot(page, "registered again")
    assert _workers(demo_app, id=worker.id)[0].status == "registered"
    with demo_app.app_context():
        events = select(AuditEvent.action).filter_by(object_type="worker", object_id=str(worker.id))
        assert list(db.session.scalars(events.order_by(AuditEvent.id)))[-2:] == [
            "worker.withdraw",
            "worker.reinstate",
        ]


def test_a_double_click_on_confirm_imports_once(demo_app, journey, tmp_path):
    sheet = tmp_path / "双击.xlsx"
    sheet.write_bytes(county_sheet_xlsx([person(8, "双击甲"), person(9, "双击乙")]))
    with demo_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Worker))
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto("/workers/import")
    page.get_by_label("文件").set_input_files(str(sheet))
    page.get_by_label("最早出发日期").fill("2026-03-03")
    page.get_by_role("button", name="检查文件").click()
    button = page.get_by_role("button", name=re.compile("确认"))
    button.dblclick()
    page.wait_for_url("**/workers/")
    assert page.locator(".flash").count() == 1
    with demo_app.app_context():
        after = db.session.scalar(select(func.count()).select_from(Worker))
    assert after - before == 2


def test_a_county_coordinator_registers_on_his_phone(demo_app, phone_journey, shot):
    page = phone_journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto("/workers/new")
    assert page.get_by_label("户籍县区").input_value() == "hongtong"  # his only county, chosen
    assert _options(page, "#f-pickup_point") == ["洪洞县人社局门前广场"]  # where to stand
    page.get_by_label("姓名").fill("手机登记")
    page.get_by_label("身份证号").fill(county_id(12))
    page.get_by_label("手机号").fill("13903587777")
    page.get_by_label("户籍县区").select_option(label="洪洞县")
    page.get_by_label("目的地").select_option(label="太仓市")
    page.get_by_label("最早出发日期").fill("2026-03-02")
    shot(page, "phone-form")
    page.get_by_role("button", name="登记", exact=True).tap()
    page.wait_for_url("**/workers/")
    assert "已登记 手机登记" in page.locator(".flash-success").inner_text()
    shot(page, "phone-list")
    [worker] = _workers(demo_app, id_number=county_id(12))
    assert worker.destination_site_id == "js-taicang" and worker.pickup_site_id == "hongtong"


def test_a_county_coordinator_imports_his_offices_list_with_no_county_column(
    demo_app, journey, shot, tmp_path
):
    """洪洞县's own list has no 户籍县区 column, notes in its headers and Chinese dates; it was
    refused ("缺少列：户籍县区")."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["洪洞县2026年春季务工人员花名册"])
    sheet.append(["序号", "姓名", "身份证号码（18位）", "联系电话（手机）", "务工地点", "出发日期"])
    for n, name in ((1, "王　建国"), (2, "李秀兰")):
        row = person(n, name)
        sheet.append([n, name, row[4], row[5], "昆山", "2026年3月3日"])
    out = io.BytesIO()
    book.save(out)
    path = tmp_path / "洪洞县花名册.xlsx"
    path.write_bytes(out.getvalue())
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    page.goto("/workers/import")
    page.get_by_label("文件").set_input_files(str(path))
    page.get_by_role("button", name="检查文件").click()
    page.locator("#import-preview").wait_for()
    shot(page, "preview")
    expect(page.locator("#count-new")).to_have_text("2")
    expect(page.locator("#count-error")).to_have_text("0")
    new_rows = page.locator("#import-new tbody")
    expect(new_rows).to_contain_text("王建国")
    expect(new_rows).to_contain_text("洪洞县")
    expect(new_rows).to_contain_text("2026-03-03")
    page.get_by_role("button", name=re.compile("确认")).click()
    page.wait_for_url("**/workers/")
    expect(page.locator(".flash-success")).to_contain_text("2")
    assert {w.county_id for w in _workers(demo_app, name="王建国")} == {"hongtong"}
