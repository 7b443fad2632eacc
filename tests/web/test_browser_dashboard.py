"""A coordinator logs in in real Chromium and sees the Chinese dashboard."""

from __future__ import annotations

import pytest

from tests.support.apps import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


def test_login_and_chinese_dashboard(page):
    page.goto("/")
    assert "/login" in page.url
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "总览"
    assert page.locator('[data-stage="registered"]').inner_text() == "200"
    assert page.get_by_role("table").first.locator("caption").inner_text() == "按县区"
    page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Dashboard"


def test_dashboard_fits_a_phone(chromium, live_server):
    context = chromium.new_context(
        locale="zh-CN", base_url=live_server.url, viewport={"width": 375, "height": 740}
    )
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # nothing forces sideways scrolling of the page
    context.close()
