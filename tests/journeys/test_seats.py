"""The bus page as coordinators use it: moving passengers by clicking, the crew, and county scope."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support import seats as data
from tests.support.apps import COORD_PASSWORD
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def planned(demo_app):
    """The demo planned, a city coordinator (every county) and a waiting worker for one bus."""
    data.plan_demo(demo_app)
    data.add_user(demo_app, "city", "coordinator", COORD_PASSWORD)
    return demo_app


def _seat(page, n: int):
    return page.locator(f'.seatmap [data-seat="{n}"]')


def _click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def _open_typed_forms(page) -> None:
    """Unfold the typed forms (they stay unfolded on a page that answers a refused form)."""
    if page.locator("#typed-forms[open]").count() == 0:
        page.locator("#typed-forms summary").click()


def _flash(page):
    return page.locator(".flash-success, .flash-error, .flash-warning").first


def test_city_coordinator_moves_swaps_locks_and_sets_the_crew_by_clicking(journey, shot, planned):
    page, app = journey, planned
    page.console_watch.allow(
        "status of 4(22|09)"
    )  # a locked seat freed, a stale map: refused on purpose
    chosen = next(b for b in data.buses(app) if len(b.seats) >= 4 and len(b.free_seats()) >= 4)
    newcomer = data.waiting_worker(app, chosen.id, "候补甲", 101)
    log_in(page, "city", COORD_PASSWORD)
    page.goto(f"/trips/{chosen.id}")
    expect(page.locator("#move-status")).to_contain_text("先点击一名乘客")
    shot(page, "bus page")

    (a, (a_id, a_name, _)), (b, (b_id, b_name, _)) = sorted(chosen.seats.items())[:2]
    free = chosen.free_seats()[-1]
    _answered_1(app, chosen.id, a)
    page.reload()
    expect(_seat(page, a).locator(".seat-reply")).to_have_text("✓已确认")
    _seat(page, a).click()
    expect(page.locator("#move-status")).to_contain_text(f"已选中{a_name}")
    expect(_seat(page, a)).to_have_attribute("aria-pressed", "true")
    shot(page, "passenger picked")
    _click_and_wait(page, _seat(page, free))
    expect(_flash(page)).to_have_text(f"已将{a_name}从{a}号座调到{free}号座。")
    expect(_seat(page, free)).to_contain_text(a_name)
    expect(_seat(page, a)).not_to_contain_text(a_name)
    assert data.bus(app, chosen.id).seat_of(a_id) == free
    # on another seat of the same bus the worker's answer stays with them
    expect(_seat(page, free).locator(".seat-reply")).to_have_text("✓已确认")
    expect(_seat(page, a).locator(".seat-reply")).to_have_count(0)
    shot(page, "moved")

    _seat(page, free).click()
    _click_and_wait(page, _seat(page, b))
    expect(_flash(page)).to_have_text(f"已互换{free}号座和{b}号座。")
    expect(_seat(page, free)).to_contain_text(b_name)
    expect(_seat(page, b)).to_contain_text(a_name)
    now = data.bus(app, chosen.id)
    assert (now.seat_of(a_id), now.seat_of(b_id)) == (b, free)
    shot(page, "swapped")

    _stale_map_is_refused(page, app, chosen.id)
    _keyboard_move(page, app, chosen.id)
    shot(page, "moved with the keyboard")

    page.locator("button.pick", has_text="候补甲").click()
    expect(page.locator("#move-status")).to_contain_text("已选中候补甲")
    target = data.bus(app, chosen.id).free_seats()[0]
    _click_and_wait(page, _seat(page, target))
    expect(_flash(page)).to_have_text(f"已将候补甲安排在{target}号座。")
    assert data.bus(app, chosen.id).seat_of(newcomer) == target
    expect(page.locator("button.pick", has_text="候补甲")).to_have_count(0)
    shot(page, "waiting worker seated")

    _lock_and_unlock_a_seat(page, shot, app, chosen.id, target)
    _typed_forms(page, app, chosen.id)
    _bus_wide_changes(page, shot, app, chosen.id)


def _answered_1(app, trip_id: int, seat_no: int) -> None:
    """The passenger of `seat_no` answered 1 (coming) to the departure notice."""
    from dispatch.extensions import db
    from dispatch.models import Trip
    from dispatch.models.messages import REPLY_CONFIRMED
    from dispatch.services import seats

    with app.app_context():
        seat = seats.seat_at(db.session.get(Trip, trip_id), seat_no)
        seat.reply = REPLY_CONFIRMED
        db.session.commit()


def _stale_map_is_refused(page, app, trip_id: int) -> None:
    """Someone else changed the bus since this map was drawn: the click is refused, the map redrawn."""
    from dispatch.extensions import db
    from dispatch.models import Trip
    from dispatch.services import seats

    before = data.bus(app, trip_id)
    seat_no = min(before.seats)
    with app.app_context():
        seats.set_locked(db.session.get(Trip, trip_id), None, False, None)  # bumps the version only
        db.session.commit()
    _seat(page, seat_no).click()
    _click_and_wait(page, _seat(page, before.free_seats()[0]))
    expect(page.locator(".flash-error")).to_have_text(
        "已被他人修改，以下为最新座位图，请重新操作。"
    )
    assert data.bus(app, trip_id).seats == before.seats


def _keyboard_move(page, app, trip_id: int) -> None:
    """Tab to a passenger whose next seat is free, Enter, Escape, Space, Tab, Enter: moved."""
    now = data.bus(app, trip_id)
    seat_no = next(n for n in sorted(now.seats) if n + 1 in now.free_seats())
    name = now.seats[seat_no][1]
    page.locator("h1").click()  # start from the top of the page, as a keyboard user would
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.seat") == str(seat_no):
            break
    else:
        raise AssertionError(f"seat {seat_no} never took the focus")
    page.keyboard.press("Enter")
    expect(_seat(page, seat_no)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    expect(_seat(page, seat_no)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#move-status")).to_contain_text("先点击一名乘客")
    page.keyboard.press(" ")
    expect(_seat(page, seat_no)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(_flash(page)).to_have_text(f"已将{name}从{seat_no}号座调到{seat_no + 1}号座。")
    assert data.bus(app, trip_id).seats[seat_no + 1][1] == name


def _lock_and_unlock_a_seat(page, shot, app, trip_id: int, seat_no: int) -> None:
    _seat(page, seat_no).click()
    _click_and_wait(page, page.locator('#move-form button[data-do="lock"]'))
    expect(_flash(page)).to_have_text(f"已锁定{seat_no}号座。")
    expect(_seat(page, seat_no).locator("svg.icon-lock")).to_be_visible()
    shot(page, "seat locked")
    free = data.bus(app, trip_id).free_seats()[0]
    _seat(page, seat_no).click()
    expect(page.locator("#move-status")).to_contain_text(f"{seat_no}号座已锁定")
    _seat(page, free).click()  # a locked passenger does not move: the page says why
    expect(page.locator("#move-status")).to_contain_text("请先解锁")
    _click_and_wait(page, page.locator('#move-form button[data-do="unlock"]'))
    expect(_flash(page)).to_have_text(f"已解锁{seat_no}号座。")
    expect(_seat(page, seat_no).locator("svg.icon-lock")).to_have_count(0)


def _typed_forms(page, app, trip_id: int) -> None:
    """The plain forms still work: seat a worker by number, free a seat, lock and unlock by number."""
    now = data.bus(app, trip_id)
    seat_no, (worker_id, name, _) = sorted(now.seats.items())[-1]
    free = now.free_seats()[0]
    _open_typed_forms(page)
    page.locator("#f-worker").select_option(str(worker_id))
    page.locator("#f-seat").fill(str(free))
    _click_and_wait(page, page.locator("#place-form button[type=submit]"))
    expect(_flash(page)).to_have_text(f"已将{name}从{seat_no}号座调到{free}号座。")
    _open_typed_forms(page)
    page.locator("#f-seat2").fill(str(free))
    _click_and_wait(page, page.locator("#seat-form button[value=lock]"))
    expect(_flash(page)).to_have_text(f"已锁定{free}号座。")
    _open_typed_forms(page)
    page.locator("#f-seat2").fill(str(free))
    _click_and_wait(page, page.locator("#seat-form button[value=free]"))
    expect(page.locator(".flash-error")).to_contain_text("锁定")  # a locked seat is not freed
    page.locator("#f-seat2").fill(str(free))
    _click_and_wait(page, page.locator("#seat-form button[value=unlock]"))
    expect(_flash(page)).to_have_text(f"已解锁{free}号座。")
    _open_typed_forms(page)
    page.locator("#f-seat2").fill(str(free))
    _click_and_wait(page, page.locator("#seat-form button[value=free]"))
    expect(_flash(page)).to_have_text(f"已释放{free}号座，{name}重新进入候补。")
    assert data.bus(app, trip_id).seat_of(worker_id) is None
    expect(page.locator("button.pick", has_text=name)).to_be_visible()


def _bus_wide_changes(page, shot, app, trip_id: int) -> None:
    page.get_by_label("首站发车时间").fill("09:15")
    _click_and_wait(page, page.locator("#departure-form button[type=submit]"))
    expect(_flash(page)).to_have_text("发车时间已改为09:15，各站时间随之调整。")
    expect(page.locator("#stops")).to_contain_text("09:15")
    shot(page, "departure changed")

    page.get_by_label("车辆（车牌）").select_option(index=1)
    plate = page.locator("#f-coach option:checked").inner_text().split(" · ")[0]
    page.locator("#f-driver1").select_option(index=1)
    driver = page.locator("#f-driver1 option:checked").inner_text().split(" · ")[0]
    page.locator("#f-captain").select_option(index=1)
    captain = page.locator("#f-captain option:checked").inner_text().split(" · ")[1]
    _click_and_wait(page, page.get_by_role("button", name="保存车辆与人员"))
    expect(_flash(page)).to_have_text("车辆、司机和车长已保存。")
    expect(page.locator("#crew")).to_contain_text(plate)
    expect(page.locator("#crew")).to_contain_text(driver)
    expect(page.locator("#captain")).to_have_text(captain)
    shot(page, "crew assigned")

    _click_and_wait(page, page.locator("#lock-trip"))
    expect(_flash(page)).to_have_text("已锁定整车：重新编排时本车保持不变。")
    expect(page.locator("#trip-locked svg.icon-lock")).to_be_visible()
    assert data.bus(app, trip_id).locked
    shot(page, "whole bus locked")

    expect(page.locator("#lock-trip")).to_have_text("解锁整车")
    _click_and_wait(page, page.locator("#lock-trip"))
    expect(_flash(page)).to_have_text("已解锁整车。")
    expect(page.locator("#trip-locked")).to_have_count(0)
    assert not data.bus(app, trip_id).locked


def _foreign_and_mixed(app) -> tuple[data.Bus, data.Bus]:
    """A bus with no 洪洞县 worker and several passengers, and one with 洪洞县 and other counties."""
    all_buses = data.buses(app)
    foreign = next(
        b
        for b in all_buses
        if "hongtong" not in b.counties and len(b.seats) >= 3 and b.free_seats()
    )
    mixed = next(
        b for b in all_buses if "hongtong" in b.counties and len(b.counties) > 1 and b.free_seats()
    )
    return foreign, mixed


def test_county_coordinator_sees_no_other_names_and_changes_only_his_workers(
    journey, shot, planned
):
    page, app = journey, planned
    page.console_watch.allow("status of 403")  # the refusals below are provoked on purpose
    foreign, mixed = _foreign_and_mixed(app)
    first_seat = min(foreign.seats)
    data.set_captain(app, foreign.id, foreign.seats[first_seat][0])
    foreign = data.bus(app, foreign.id)
    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/trips/{foreign.id}")
    text = page.locator("main").inner_text()
    assert not [name for _w, name, _c in foreign.seats.values() if name in text]
    expect(page.locator("#captain")).to_have_text("其他县区乘客")
    expect(page.locator(".seatmap .seat.other")).to_have_count(len(foreign.seats))
    expect(page.locator(".seatmap button.seat[data-worker]")).to_have_count(0)
    expect(page.locator("#bus-scope-note")).to_contain_text("整车调整")
    for absent in ("#departure-form", "#crew-form", "#lock-trip"):
        expect(page.locator(absent)).to_have_count(0)
    shot(page, "another county's bus")

    a, b = sorted(foreign.seats)[:2]
    for action, other in (("free", None), ("swap", b), ("lock", None), ("unlock", None)):
        _open_typed_forms(page)
        page.locator("#f-seat2").fill(str(a))
        page.locator("#f-other").fill(str(other or ""))
        _click_and_wait(page, page.locator(f"#seat-form button[value={action}]"))
        expect(page.locator(".flash-error")).to_have_text(
            "该座位的乘客属于其他县区，只有其所在县区的调度员才能调整此座位。"
        )
    shot(page, "refused")
    assert data.bus(app, foreign.id) == foreign  # nothing changed, not even the version

    page.goto(f"/trips/{mixed.id}")
    mine = next(n for n, (_w, _name, county) in sorted(mixed.seats.items()) if county == "hongtong")
    theirs = next(
        n for n, (_w, _name, county) in sorted(mixed.seats.items()) if county != "hongtong"
    )
    name = mixed.seats[mine][1]
    expect(_seat(page, theirs)).to_have_text(f"{theirs}已占")
    _open_typed_forms(page)
    page.locator("#f-seat2").fill(str(mine))
    page.locator("#f-other").fill(str(theirs))
    _click_and_wait(page, page.locator("#seat-form button[value=swap]"))
    expect(page.locator(".flash-error")).to_contain_text("属于其他县区")
    free = mixed.free_seats()[-1]
    _seat(page, mine).click()
    _click_and_wait(page, _seat(page, free))
    expect(_flash(page)).to_have_text(f"已将{name}从{mine}号座调到{free}号座。")
    assert data.bus(app, mixed.id).seat_of(mixed.seats[mine][0]) == free
    shot(page, "own worker moved on a mixed bus")


def test_county_coordinator_moves_his_worker_on_a_phone(phone_journey, shot, planned):
    page, app = phone_journey, planned
    _foreign, mixed = _foreign_and_mixed(app)
    mine = next(n for n, (_w, _name, county) in sorted(mixed.seats.items()) if county == "hongtong")
    name, free = mixed.seats[mine][1], mixed.free_seats()[0]
    log_in(page, "hong", COORD_PASSWORD)
    page.goto(f"/trips/{mixed.id}")
    _seat(page, mine).tap()
    expect(page.locator("#move-status")).to_contain_text(f"已选中{name}")
    shot(page, "picked on a phone")
    with page.expect_navigation():
        _seat(page, free).tap()
    expect(_flash(page)).to_have_text(f"已将{name}从{mine}号座调到{free}号座。")
    assert data.bus(app, mixed.id).seat_of(mixed.seats[mine][0]) == free
    shot(page, "moved on a phone")
