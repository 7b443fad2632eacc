"""A bureau sets up its season without the demo: after `reference load` an admin adds the operator,
coaches, drivers, coach types, employers and sites in the browser (and imports an operator's coach
list), sees bad input refused on the field, deactivates; a coordinator is shown the door; and a
coach away on yesterday's bus to Kunshan cannot be put on this morning's."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dispatch import create_app
from dispatch.extensions import db
from tests.support.apps import base_config, make_app
from tests.support.browser import log_in
from tests.support.fleet import (
    ADMIN_PASSWORD,
    BAD_ROWS,
    COORD_PASSWORD,
    GOOD_ROWS,
    add_coach,
    add_driver,
    add_plan,
    add_trip,
    coach_sheet,
    fresh_deployment,
)

pytestmark = pytest.mark.browser
SOON = date.today() + timedelta(days=20)


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory) -> Path:
    """A database as a new deployment has it: `reference load`, an admin, a Hongtong coordinator."""
    folder = tmp_path_factory.mktemp("fresh")
    app = make_app(folder, f"sqlite:///{folder / 'fresh.db'}")
    with app.app_context():
        fresh_deployment()
        db.session.commit()
        db.engine.dispose()
    return folder / "fresh.db"


@pytest.fixture
def demo_app(tmp_path, fresh_template):
    """Replaces the demo for this module's live server: no fleet, no employers, no workers."""
    shutil.copy(fresh_template, tmp_path / "fresh.db")
    app = create_app(
        base_config(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}"), instance_path=str(tmp_path)
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def _flash(page):
    return page.locator(".flash").first


def _press(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def _tab(page, label: str) -> None:
    with page.expect_navigation():
        page.locator("nav.fleet-tabs").get_by_role("link", name=label, exact=True).click()
    expect(page.locator("h1")).to_contain_text(label)


def _edit_row(page, text: str) -> None:
    with page.expect_navigation():
        page.locator("#fleet-list tr", has_text=text).get_by_role("link", name="修改").click()


def _add_operator(page, shot) -> None:
    _tab(page, "客运企业")
    expect(page.locator("#fleet-list")).to_contain_text("暂无记录")
    page.get_by_label("企业名称").fill("临汾市长途客运有限公司")
    page.get_by_label("道路运输经营许可证号").fill("晋交运管许可临字141000123号")
    page.get_by_label("联系人").fill("郭经理")
    page.get_by_label("联系电话").fill("0357-2021234")
    _press(page, "新增")
    expect(_flash(page)).to_contain_text("已保存：临汾市长途客运有限公司")
    expect(page.locator("#fleet-list")).to_contain_text("0357-2021234")
    shot(page, "operator")


def _add_drivers(page, shot) -> None:
    _tab(page, "驾驶员")
    people = [
        ("张建军", "13800138011"),
        ("李国强", "13800138012"),
        ("王海涛", "13800138013"),
        ("赵志刚", "13800138014"),
    ]
    for n, (name, phone) in enumerate(people):
        page.get_by_label("姓名").fill(name)
        page.get_by_label("手机号").fill(phone)
        page.get_by_label("客运企业").select_option(label="临汾市长途客运有限公司")
        page.get_by_label("准驾车型").fill("A1")
        page.get_by_label("从业资格证有效期至").fill("2024-05-31" if n == 0 else "2028-05-31")
        _press(page, "新增")
        if n == 0:  # an expired qualification is refused on its field; what was typed stays
            expect(page.locator("#err-qualification_expires")).to_contain_text(
                "已于 2024-05-31 过期"
            )
            expect(page.get_by_label("姓名")).to_have_value(name)
            shot(page, "expired-qualification")
            page.get_by_label("从业资格证有效期至").fill("2028-05-31")
            _press(page, "新增")
        expect(_flash(page)).to_contain_text(f"已保存：{name}")
    expect(page.locator("#fleet-list tbody tr")).to_have_count(4)
    expect(page.locator("#fleet-list")).to_contain_text("+8613800138014")


def _add_coaches(page, shot) -> None:
    _tab(page, "车辆")
    page.get_by_label("车牌").fill("晋L12")
    page.get_by_label(re.compile(r"^车型")).select_option(label="53座大型客车")
    _press(page, "新增")
    expect(page.locator("#err-plate")).to_contain_text("车牌号格式不对")
    shot(page, "bad-plate")
    page.get_by_label("车牌").fill("晋lk1001")  # typed without the dot, in lower case
    page.get_by_label("客运企业").select_option(label="临汾市长途客运有限公司")
    page.get_by_label("车辆驻地").select_option(label="洪洞县")
    page.get_by_label("常驻驾驶员1").select_option(label="张建军 +8613800138011")
    page.get_by_label("常驻驾驶员2").select_option(label="李国强 +8613800138012")
    _press(page, "新增")
    expect(_flash(page)).to_contain_text("已保存：晋L·K1001")
    page.get_by_label("车牌").fill("晋L·K1002")
    page.get_by_label(re.compile(r"^车型")).select_option(label="45座大型客车")
    page.get_by_label("道路运输证有效期至").fill("2025-12-31")
    _press(page, "新增")
    expect(page.locator("#err-certificate_expires")).to_contain_text("过期")
    page.get_by_label("道路运输证有效期至").fill("2027-12-31")
    page.get_by_label("常驻驾驶员1").select_option(label="王海涛 +8613800138013")
    page.get_by_label("常驻驾驶员2").select_option(label="赵志刚 +8613800138014")
    _press(page, "新增")
    expect(_flash(page)).to_contain_text("已保存：晋L·K1002")
    page.get_by_label("车牌").fill("晋LK1001")  # the first coach again, written otherwise
    page.get_by_label(re.compile(r"^车型")).select_option(label="53座大型客车")
    _press(page, "新增")
    expect(page.locator("#err-plate")).to_contain_text("已被占用")
    expect(page.locator("#fleet-list")).to_contain_text("晋L·K1001")
    expect(page.locator("#fleet-list tr", has_text="晋L·K1002")).to_contain_text("王海涛")


def _import_sheet(page, shot, folder: Path) -> None:
    wrong = folder / "人员名单.csv"
    wrong.write_text("姓名,手机号\n张三,13800138000\n", encoding="utf-8")
    page.get_by_label("文件").set_input_files(str(wrong))
    _press(page, "检查名单")
    expect(page.locator("#import-error")).to_contain_text("没有找到含“车牌号”的表头")
    page.get_by_label("文件").set_input_files(
        coach_sheet(folder / "长运车辆.xlsx", GOOD_ROWS + BAD_ROWS)
    )
    _press(page, "检查名单")
    expect(page.locator("#import-summary")).to_contain_text(
        "新增 2 · 将更新 0 · 无变化 0 · 有错误 3"
    )
    expect(page.locator("#import-rows tr", has_text="晋L12")).to_contain_text("车牌号格式不对")
    expect(page.locator("#import-rows")).to_contain_text("驾驶员1：请填写11位大陆手机号")
    shot(page, "import-preview")
    _press(page, "导入无错误的行")
    expect(_flash(page)).to_contain_text("新增 2 辆车")
    expect(page.locator("#fleet-list tbody tr")).to_have_count(4)
    expect(page.locator("#fleet-list")).to_contain_text("晋L·B5678")
    shot(page, "coaches")


def _edit_and_deactivate(page, shot) -> None:
    _edit_row(page, "晋L·K1001")
    expect(page.get_by_label("车牌")).to_have_value("晋L·K1001")
    page.get_by_label("道路运输证号").fill("晋交运管临字141000777")
    shot(page, "edit-coach")
    _press(page, "保存")
    expect(_flash(page)).to_contain_text("已保存：晋L·K1001")
    _tab(page, "驾驶员")
    page.get_by_label("搜索").fill("王海涛")
    _press(page, "搜索")
    expect(page.locator("#fleet-list tbody tr")).to_have_count(1)
    expect(page.locator("#fleet-list")).to_contain_text("王海涛")
    _tab(page, "驾驶员")
    _edit_row(page, "赵志刚")
    _press(page, "删除")  # a usual driver of a coach: refused with the reason
    expect(_flash(page)).to_contain_text("是车辆 晋L·K1002 的常驻驾驶员")
    _press(page, "停用")
    expect(_flash(page)).to_contain_text("赵志刚 已停用")
    expect(page.locator("#fleet-list tr", has_text="赵志刚")).to_contain_text("已停用")
    _edit_row(page, "赵志刚")
    _press(page, "重新启用")
    expect(_flash(page)).to_contain_text("已重新启用")


def _coach_type(page) -> None:
    _tab(page, "车型")
    page.get_by_label("编码").fill("c39")
    page.get_by_label("车型名称").fill("39座中型客车")
    page.get_by_label("核定座位数").fill("39")
    page.get_by_label("乘务座位数").fill("9")
    page.get_by_label("单趟包车价（元）").fill("10000")
    page.get_by_label("绕行每公里价（元）").fill("3")
    _press(page, "新增")
    expect(page.locator("#err-crew_seats")).to_contain_text("请填写 0 到 5 之间的数字")
    page.get_by_label("乘务座位数").fill("2")
    _press(page, "新增")
    expect(page.locator("#fleet-list")).to_contain_text("39座中型客车")
    _edit_row(page, "39座中型客车")
    _press(page, "删除")  # nothing uses it yet
    expect(_flash(page)).to_contain_text("已删除：39座中型客车")


def _employer_and_site(page, shot) -> None:
    _tab(page, "用工单位")
    page.get_by_label("单位名称").fill("昆山华东精密制造有限公司")
    page.get_by_label("目的地").select_option(label="昆山市")
    page.get_by_label("厂门交接联系人").fill("刘经理")
    page.get_by_label("联系电话").fill("13912345678")
    _press(page, "新增")
    expect(page.locator("#fleet-list tr", has_text="昆山华东精密")).to_contain_text(
        "+8613912345678"
    )
    _tab(page, "目的地与上车点")
    page.get_by_label("编码").fill("hongtong-dahuaishu")
    page.get_by_label("类型").select_option(label="上车点")
    page.get_by_label("县区").select_option(label="洪洞县")
    page.get_by_label("地点名称").fill("洪洞大槐树景区停车场")
    page.get_by_label("纬度").fill("36.27")
    page.get_by_label("经度").fill("11.68")  # a digit dropped: far outside China
    page.get_by_label("暖心礼包发放地点").fill("停车场东侧服务站")
    page.get_by_label("默认发放时段").fill("06:30-07:30")
    _press(page, "新增")
    expect(page.locator("#err-lon")).to_contain_text("不在中国境内")
    shot(page, "outside-china")
    page.get_by_label("经度").fill("111.68")
    _press(page, "新增")
    expect(page.locator("#fleet-list tr", has_text="洪洞大槐树")).to_contain_text("上车点")
    shot(page, "sites")
    # 洪洞县's pickup point: its posters offer it (a point with no county was on none)
    page.goto("/registrations/posters")
    expect(page.locator("#posters")).to_contain_text("洪洞大槐树景区停车场")
    page.goto("/admin/fleet/sites/")


def test_admin_sets_up_a_season_without_the_demo(journey, shot, tmp_path):
    page = journey
    page.console_watch.allow(r"status of 422")  # each refusal below, on purpose
    log_in(page, "admin", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.locator("nav.mainnav").get_by_role("link", name="车队与地点").click()
    expect(page.locator("h1")).to_contain_text("车辆")
    _add_operator(page, shot)
    _add_drivers(page, shot)
    _add_coaches(page, shot)
    _import_sheet(page, shot, tmp_path)
    _edit_and_deactivate(page, shot)
    _coach_type(page)
    _employer_and_site(page, shot)


def test_a_coordinator_is_refused_the_administration(journey, shot):
    page = journey
    page.console_watch.allow(r"status of 403")
    log_in(page, "hong", COORD_PASSWORD)
    expect(page.locator("nav.mainnav")).not_to_contain_text("车队与地点")
    for path in ("/admin/fleet/", "/admin/fleet/operators/", "/admin/fleet/sites/"):
        page.goto(path)
        expect(page.locator("main")).to_contain_text("您没有执行此操作的权限")
    shot(page, "forbidden")


@pytest.fixture
def two_buses(demo_app):
    """Published buses to Kunshan: T1 today, T2 and T3 the next morning; a coach and its crew."""
    with demo_app.app_context():
        plan = add_plan(day=SOON)
        for code, days in (("T1", 0), ("T2", 1), ("T3", 1)):
            add_trip(plan, code, SOON + timedelta(days=days))
        drivers = [add_driver("张建军", "+8613800138011"), add_driver("李国强", "+8613800138012")]
        add_coach(
            "晋L·K1001", driver1_id=drivers[0].id, driver2_id=drivers[1].id, operator="临汾长运"
        )
        db.session.commit()
        return {t.code: t.id for t in plan.trips}


def _give_coach(page, trip_id: int) -> None:
    page.goto(f"/trips/{trip_id}")
    page.get_by_label("车辆（车牌）").select_option(label="晋L·K1001 · 临汾长运")


def test_a_coach_away_to_kunshan_cannot_take_the_next_mornings_bus(
    journey, chromium, live_server, shot, two_buses
):
    page = journey
    log_in(page, "admin", ADMIN_PASSWORD)
    _give_coach(page, two_buses["T1"])
    _press(page, "保存车辆与人员")
    expect(_flash(page)).to_contain_text("车辆、司机和车长已保存")
    expect(page.locator("#crew")).to_contain_text("晋L·K1001")
    # The next morning's bus no longer offers the coach (the server's refusal of a form opened
    # while it was free is the race below).
    page.goto(f"/trips/{two_buses['T2']}")
    offered = page.get_by_label("车辆（车牌）").locator("option").all_inner_texts()
    assert offered and not any("晋L·K1001" in o for o in offered), offered
    shot(page, "coach-busy")


def test_two_coordinators_give_one_coach_to_two_buses_one_wins(
    journey, chromium, live_server, shot, two_buses
):
    other = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    second = other.new_page()
    try:
        pages = [journey, second]
        for page, trip in zip(
            pages, ("T2", "T3"), strict=True
        ):  # both open the form while the coach is free
            log_in(page, "admin", ADMIN_PASSWORD)
            _give_coach(page, two_buses[trip])
        journey.console_watch.allow(r"status of 422")
        for page in pages:
            _press(page, "保存车辆与人员")
        expect(_flash(journey)).to_contain_text("车辆、司机和车长已保存")
        expect(_flash(second)).to_contain_text("正在执行车次 T2")
        expect(second.locator("#crew")).not_to_contain_text("晋L·K1001")
        shot(second, "second-refused")
    finally:
        other.close()


def test_an_admin_adds_a_driver_on_a_phone(phone_journey, shot):
    page = phone_journey
    log_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/admin/fleet/drivers/")
    page.get_by_label("姓名").fill("孙师傅")
    page.get_by_label("手机号").fill("13800138019")
    _press(page, "新增")
    expect(page.locator("#fleet-list")).to_contain_text("孙师傅")
    shot(page, "drivers-on-a-phone")
