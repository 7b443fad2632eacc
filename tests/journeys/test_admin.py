"""The frame of every page and its people: an admin managing users and tokens, a viewer who only
reads, logging out for real, and the top bar on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def _flash(page):
    return page.locator(".flash").first


def _nav(page, label: str) -> None:
    with page.expect_navigation():
        page.locator("nav.mainnav").get_by_role("link", name=label, exact=True).click()


def _press(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def _create_coordinator(page, shot) -> None:
    page.get_by_label("用户名", exact=True).fill("fen")
    page.get_by_label("姓名", exact=True).fill("冯县长")
    page.get_by_label("角色").select_option(label="县区协调员")
    page.console_watch.allow(r"status of 422")  # the refusal just below, on purpose
    _press(page, "创建用户")  # no county chosen yet
    expect(_flash(page)).to_contain_text("县区协调员至少要负责一个县区")
    expect(page.get_by_label("用户名", exact=True)).to_have_value("fen")  # what he typed stays
    page.get_by_label("洪洞县", exact=True).check()
    page.get_by_label("隰县", exact=True).check()
    shot(page, "new-user-form")
    _press(page, "创建用户")
    expect(_flash(page)).to_contain_text("已创建用户 fen")
    expect(page.locator("#new-password")).to_have_text(re.compile(r"\S{12,}"))
    shot(page, "created")


def _change_counties(page) -> None:
    page.get_by_label("隰县", exact=True).uncheck()
    page.get_by_label("乡宁县", exact=True).check()
    _press(page, "保存角色和县区")
    expect(_flash(page)).to_contain_text("角色和县区已保存")
    expect(page.get_by_label("乡宁县", exact=True)).to_be_checked()
    expect(page.get_by_label("隰县", exact=True)).not_to_be_checked()


def _token_round_trip(page, shot) -> None:
    page.get_by_label("新令牌的用途").fill("县区导入脚本")
    _press(page, "创建API令牌")
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("dsp_")
    shot(page, "token-shown-once")
    auth = {"Authorization": f"Bearer {token}"}
    assert page.request.get("/api/v1/workers?per_page=1", headers=auth).status == 200
    page.get_by_role(
        "link", name="全部用户"
    ).click()  # back to his page: the token is not shown again
    page.locator("#users").get_by_role("link", name="fen").click()
    expect(page.locator("#new-token")).to_have_count(0)
    row = page.locator("#tokens tbody tr", has_text="县区导入脚本")
    expect(row).to_contain_text(token[:10])
    with page.expect_navigation():
        row.get_by_role("button", name="吊销").click()
    expect(_flash(page)).to_contain_text("令牌已吊销")
    expect(page.locator("#tokens")).to_contain_text("没有API令牌")
    assert page.request.get("/api/v1/workers?per_page=1", headers=auth).status == 401


def test_admin_manages_users_and_tokens(journey, chromium, live_server, shot):
    page = journey
    log_in(page, "admin", ADMIN_PASSWORD)
    expect(
        page.get_by_role("button", name="菜单")
    ).to_be_hidden()  # a wide screen shows the whole bar
    _nav(page, "用户")
    expect(page.locator("#users")).to_contain_text("hong")
    _create_coordinator(page, shot)
    page.get_by_role("link", name="全部用户").click()
    row = page.locator("#users tbody tr", has_text="fen")
    expect(row).to_contain_text("县区协调员")
    expect(row).to_contain_text("洪洞县、隰县")
    page.get_by_label("搜索").fill("fen")
    _press(page, "搜索")
    expect(page.locator("#users tbody tr")).to_have_count(1)
    shot(page, "listed")
    page.locator("#users").get_by_role("link", name="fen").click()
    _change_counties(page)

    _press(page, "重置密码")
    password = page.locator("#new-password").inner_text().strip()
    shot(page, "password-reset")
    fen_context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    fen = fen_context.new_page()
    log_in(fen, "fen", password)
    expect(fen.locator("header .who")).to_have_text("冯县长")
    expect(fen.locator("nav.mainnav")).not_to_contain_text("用户")  # no admin pages for him

    _token_round_trip(page, shot)

    _press(page, "停用账号")
    expect(_flash(page)).to_contain_text("账号已停用")
    fen.locator("nav.mainnav").get_by_role("link", name="人员登记").click()
    fen.wait_for_url(re.compile(r"/login"))
    expect(fen.locator('input[name="password"]')).to_be_visible()
    fen_context.close()
    _press(page, "启用账号")
    expect(_flash(page)).to_contain_text("账号已启用")

    page.goto("/admin/users/")
    with page.expect_navigation():  # else _press may take this navigation for its own
        page.locator("#users").get_by_role("link", name="admin", exact=True).click()
    _press(page, "停用账号")
    expect(_flash(page)).to_contain_text("最后一个在用的管理员")
    page.get_by_label("角色").select_option(label="只读用户")
    _press(page, "保存角色和县区")
    expect(_flash(page)).to_contain_text("最后一个在用的管理员")
    expect(page.locator(".badge-ok")).to_have_text("在用")
    shot(page, "last-admin-refused")


def test_logout_ends_the_session_for_copied_cookies_too(journey, chromium, live_server, shot):
    page = journey
    log_in(page, "hong", COORD_PASSWORD)
    expect(page.locator("header .who")).to_be_visible()
    copied = page.context.cookies()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))
    thief = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto("/workers/")
    assert "/login" in stolen.url
    expect(stolen.locator('input[name="password"]')).to_be_visible()
    shot(stolen, "copied-cookie-refused")
    thief.close()


VIEWER_PAGES = [
    ("总览", "/"),
    ("人员登记", "/workers/"),
    ("调度方案", "/plans/"),
    ("上车签到", "/boarding"),
    ("短信", "/messages/"),
]


def test_viewer_reads_everything_and_changes_nothing(journey, shot):
    page = journey
    log_in(page, "viewer", COORD_PASSWORD)
    for n, (label, path) in enumerate(VIEWER_PAGES):
        if n:  # the login lands on the dashboard
            _nav(page, label)
        assert page.url.endswith(path)
        expect(page.locator("nav.mainnav a.active")).to_have_text(label)
        assert page.locator("main form[method=post], main form[method=POST]").count() == 0, label
        assert page.locator("main button.primary, main a.button.primary").count() == 0, label
        shot(page, label)
        if path == "/workers/":
            ids = page.locator("#workers tbody tr td.mono").all_inner_texts()
            assert ids and all("*" in text for text in ids)
            expect(page.get_by_role("link", name="登记人员")).to_have_count(0)
    expect(page.locator("nav.mainnav")).not_to_contain_text("用户")
    _press(page, "English")  # the language switch keeps the page
    expect(page.locator("nav.mainnav a.active")).to_have_text("Messages")
    assert page.url.endswith("/messages/")
    _press(page, "中文")
    expect(page.locator("nav.mainnav a.active")).to_have_text("短信")
    page.console_watch.allow(r"status of 403")  # the refusal below, on purpose
    page.goto("/admin/users/")
    expect(page.locator("main h1")).to_have_text("403")
    expect(page.locator("main")).to_contain_text("您没有执行此操作的权限")
    shot(page, "admin-403")


def test_the_top_bar_folds_into_a_menu_on_a_phone(phone_journey, shot):
    page = phone_journey
    log_in(page, "admin", ADMIN_PASSWORD)  # the longest bar: every area and the users page
    bar = page.locator("header.topbar")
    assert bar.bounding_box()["height"] < 70
    expect(page.locator("nav.mainnav")).to_be_hidden()
    shot(page, "closed")
    menu = page.get_by_role("button", name="菜单")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("nav.mainnav")).to_be_visible()
    shot(page, "open")
    _nav(page, "用户")
    expect(page.locator("main h1")).to_contain_text("用户")
    assert bar.bounding_box()["height"] < 70  # folded again on the next page
    shot(page, "users-on-a-phone")


def test_guessing_a_password_is_throttled_with_a_chinese_message(journey, shot):
    page = journey
    page.goto("/workers/")
    for attempt in range(6):
        page.get_by_label("用户名").fill("admin")
        page.get_by_label("密码").fill(f"guess-{attempt}")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
    page.console_watch.allow(r"status of (401|429)")  # the refused logins, on purpose
    expect(_flash(page)).to_contain_text("登录失败次数过多")
    shot(page, "throttled")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(_flash(page)).to_contain_text("登录失败次数过多")  # even the right password, for now


def test_after_logging_in_the_page_asked_for_opens(journey):
    page = journey
    page.goto("/plans/")
    assert "/login" in page.url
    log_in_here(page)
    assert page.url.endswith("/plans/")
    expect(page.locator("nav.mainnav a.active")).to_have_text("调度方案")


def log_in_here(page) -> None:
    """Fill the login form on the page shown (keeping its ``next``)."""
    page.get_by_label("用户名").fill("hong")
    page.get_by_label("密码").fill(COORD_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
