"""Self-registration as people do it: a worker scans the poster's code on a 390 px phone,
registers with an SMS code (a wrong one first), and a county coordinator accepts one
registration and declines another; each worker's SMS is in the outbox."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import time_machine
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from dispatch.models import utcnow
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.selfservice import (
    e164,
    join_id_number,
    join_phone,
    notices,
    sent_code,
    worker_by_id_number,
)
from tests.support.tickets import NEXT_CODE

pytestmark = pytest.mark.browser

START = date.today() + timedelta(days=10)


def _scan_poster(page, app, live_server) -> str:
    """What a phone camera reads from the QR code of Hongtong's pickup-point poster."""
    app.config["PUBLIC_BASE_URL"] = live_server.url
    page.goto("/join/qr.svg?county=hongtong&pickup=hongtong")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.screenshot())))
    assert len(found) == 1
    return found[0].text


def _fill_worker(page, n: int, name: str) -> None:
    page.get_by_label("姓名").fill(name)
    page.get_by_label("身份证号").fill(join_id_number(n).lower())  # a lower-case x is fine
    page.get_by_label("手机号").fill(join_phone(n))
    page.get_by_label("去哪里务工").select_option(label="昆山市")
    page.get_by_label("最早哪天可以出发").fill(START.isoformat())
    page.get_by_label("最晚哪天出发").fill((START + timedelta(days=3)).isoformat())
    page.get_by_label("同行组代码").fill(f"王{n:04d}")


def _get_code(page, app, n: int) -> str:
    """Tap "get code"; the code is read from the SMS sent (as the worker's phone shows it)."""
    page.get_by_role("button", name="获取验证码").click()
    status = page.locator("#code-status")
    status.get_by_text("验证码已通过短信发出").wait_for()
    assert page.get_by_role("button", name=re.compile(r"\d+秒后可重发")).is_disabled()
    return sent_code(app, n)


def _register(page, app, n: int, name: str, shot=None) -> None:
    page.goto("/join?county=hongtong&pickup=hongtong")
    _fill_worker(page, n, name)
    code = _get_code(page, app, n)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("我已阅读并同意以上说明").check()
    page.get_by_role("button", name="提交报名").click()
    page.get_by_text("登记已提交，县人社局审核后会短信通知您。").wait_for()


def test_a_worker_registers_by_phone_and_the_coordinator_reviews(
    phone_journey, journey, demo_app, live_server, shot
):
    page = phone_journey
    page.console_watch.allow(r"status of 422")  # the wrong code below, on purpose
    url = _scan_poster(page, demo_app, live_server)
    assert url == f"{live_server.url}/join?county=hongtong&pickup=hongtong"
    page.goto(url)
    assert page.get_by_label("户籍县区").input_value() == "hongtong"  # the poster's preset
    assert page.get_by_label("上车点").input_value() == "hongtong"
    # named where to stand, as the SMS will say it, not by the county's name
    expect(page.locator("#f-pickup_point option:checked")).to_have_text("洪洞县人社局门前广场")
    shot(page, "join-form")
    _fill_worker(page, 1, "王自报")
    code = _get_code(page, demo_app, 1)
    page.get_by_label("我已阅读并同意以上说明").check()
    shot(page, "code-sent")

    page.get_by_label("短信验证码").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="提交报名").click()
    page.locator("#err-code").get_by_text("验证码不对或已过期").wait_for()
    assert page.get_by_label("姓名").input_value() == "王自报"  # nothing typed is lost
    assert page.get_by_label("身份证号").input_value() == join_id_number(1).lower()
    assert page.get_by_label("去哪里务工").input_value() == "js-kunshan"
    assert page.get_by_label("同行组代码").input_value() == "王0001"
    assert page.get_by_label("我已阅读并同意以上说明").is_checked()
    shot(page, "wrong-code")

    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="提交报名").click()
    page.get_by_text("登记已提交，县人社局审核后会短信通知您。").wait_for()
    shot(page, "sent")
    first = worker_by_id_number(demo_app, join_id_number(1))
    assert (first.status, first.source, first.group_code) == ("pending", "self", "王0001")

    _register(page, demo_app, 2, "李自报")
    second = worker_by_id_number(demo_app, join_id_number(2))

    coordinator = journey
    log_in(coordinator, "hong", COORD_PASSWORD)
    nav = coordinator.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name=re.compile("报名审核")).click()
    assert nav.locator(".nav-count").inner_text() == "2"
    coordinator.get_by_role("heading", name=re.compile("待审核的自助报名")).wait_for()
    shot(coordinator, "review")
    coordinator.get_by_label("选择 王自报").check()
    coordinator.get_by_role("button", name="通过所选").click()
    coordinator.get_by_text("已通过 1 条报名").wait_for()
    assert worker_by_id_number(demo_app, join_id_number(1)).status == "registered"
    told = notices(demo_app, "registration", first.phone)
    assert len(told) == 1 and "已审核通过" in told[0].body

    row = coordinator.locator(f"#reg-{second.id}")
    row.get_by_text("不通过…").click()
    row.get_by_label("原因").select_option(label="所选日期暂无专车")
    row.get_by_label("给本人的说明").fill("请改报下月")
    row.get_by_role("button", name="不通过并发短信").click()
    coordinator.get_by_text("已将 李自报 的报名设为不通过").wait_for()
    coordinator.get_by_text("没有待审核的报名。").wait_for()
    assert coordinator.locator(".nav-count").count() == 0
    shot(coordinator, "reviewed")
    declined = worker_by_id_number(demo_app, join_id_number(2))
    assert declined.status == "cancelled" and "所选日期暂无专车" in declined.decline_reason
    told = notices(demo_app, "registration", second.phone)
    assert len(told) == 1 and "未通过审核：所选日期暂无专车，请改报下月" in told[0].body

    coordinator.get_by_role("link", name="报名二维码海报").click()
    posters = coordinator.locator("#posters")
    assert "洪洞县" in posters.inner_text() and "尧都区" not in posters.inner_text()
    link = posters.get_by_role("link", name="PDF").first.get_attribute("href")
    assert link == "/join/poster.pdf?county=hongtong"
    # this test server's address opens only here: printed, its codes would lead nowhere
    assert "只能在本服务器上打开" in coordinator.locator("#poster-address").inner_text()
    shot(coordinator, "posters")


def test_without_javascript_the_code_button_keeps_the_form_and_the_limit_speaks_chinese(
    chromium, live_server, demo_app, shot
):
    from tests.support.browser import PHONE

    context = chromium.new_context(
        locale="zh-CN", base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto("/join")
        _fill_worker(page, 3, "赵无脚本")
        with time_machine.travel(utcnow(), tick=True) as clock:
            for _ in range(5):
                page.get_by_role("button", name="获取验证码").click()
                page.get_by_text("验证码已通过短信发出").wait_for()
                assert page.get_by_label("姓名").input_value() == "赵无脚本"
                clock.shift(NEXT_CODE)  # the number's next code a minute later
            page.get_by_role("button", name="获取验证码").click()
            page.get_by_text("这个手机号获取验证码次数太多").wait_for()
        assert page.get_by_label("身份证号").input_value() == join_id_number(3).lower()
        shot(page, "sixth-code-refused")
    finally:
        context.close()
    assert (
        len([s for s in demo_app.extensions["sms_gateway"].sent if s.to == e164(join_phone(3))])
        == 5
    )


def test_the_same_number_from_a_second_page_load_is_told_to_wait_and_gets_no_code(
    phone_journey, demo_app, shot
):
    page = phone_journey
    page.console_watch.allow(r"status of 429")  # the refusal, on purpose
    to_phone = e164(join_phone(4))

    def codes_sent() -> int:
        return len([s for s in demo_app.extensions["sms_gateway"].sent if s.to == to_phone])

    with time_machine.travel(utcnow(), tick=True) as clock:
        page.goto("/join?county=hongtong&pickup=hongtong")
        _fill_worker(page, 4, "钱两页")
        _get_code(page, demo_app, 4)
        page.goto("/join?county=hongtong&pickup=hongtong")  # the page loaded again: a new button
        _fill_worker(page, 4, "钱两页")
        page.get_by_role("button", name="获取验证码").click()
        status = page.locator("#code-status")
        expect(status).to_have_text(
            re.compile(r"^刚刚已向这个手机号发送验证码，请 \d+ 秒后再获取。$")
        )
        wait = int(re.search(r"请 (\d+) 秒", status.inner_text()).group(1))
        assert 50 <= wait <= 60
        expect(status).to_have_class("field-error")
        expect(page.get_by_role("button", name=re.compile(r"\d+秒后可重发"))).to_be_disabled()
        assert page.get_by_label("姓名").input_value() == "钱两页"  # nothing typed is lost
        shot(page, "second-code-refused")
        assert codes_sent() == 1

        clock.shift(NEXT_CODE)  # the minute is up
        page.reload()
        _fill_worker(page, 4, "钱两页")
        _get_code(page, demo_app, 4)
        assert codes_sent() == 2
