"""Segment counting and the Chinese notices: always signed, always 回T退订, never over 2 segments."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.notify.segments import count_segments
from dispatch.services.notices import texts

SIG = "【临汾人社】"
DAY, AT = date(2026, 3, 1), time(7, 30)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("通" * 70, 1),
        ("通" * 71, 2),
        ("通" * 134, 2),
        ("通" * 135, 3),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # GSM-7 extension characters take two septets
        ("€" * 81, 2),
        ("a" * 69 + "通", 1),  # one Chinese character turns the whole text into UCS-2
        ("a" * 70 + "通", 2),
        ("😀" * 35, 1),  # emoji: two UTF-16 units each
        ("😀" * 36, 2),
        ("😀" * 67, 2),
        ("😀" * 68, 3),
    ],
)
def test_count_segments_edges(text, segments):
    assert count_segments(text) == segments


def _departure(**overrides):
    values = dict(
        signature=SIG,
        date=DAY,
        time=AT,
        pickup="洪洞县汽车站",
        plate="晋L12345",
        seat=12,
        driver_phone="+8613800138000",
    )
    return texts.render_departure(**{**values, **overrides})


def test_departure_reads_naturally():
    text = _departure()
    assert text == (
        "【临汾人社】乘车通知：您3月1日07:30在洪洞县汽车站上车，车牌晋L12345，座位12号，"
        "司机电话13800138000。请带身份证提前20分钟到达。回T退订"
    )


def test_long_pickup_is_shortened_but_the_facts_stay_whole():
    text = _departure(pickup="洪洞县大槐树镇贾村乡政府对面老供销社门口东侧停车场" * 4)
    assert count_segments(text) == 2 and "…" in text
    for fact in ("3月1日07:30", "晋L12345", "座位12号", "13800138000", "回T退订"):
        assert fact in text


names = st.text(
    st.characters(whitelist_categories=("Lo", "Lu", "Ll", "Nd")), min_size=1, max_size=200
)


@settings(max_examples=60, deadline=None)
@given(pickup=names, plate=names, seat=st.integers(1, 99), day=st.dates(), at=st.times())
def test_every_notice_fits_two_segments(pickup, plate, seat, day, at):
    facts = dict(
        signature=SIG,
        date=day,
        time=at,
        pickup=pickup,
        plate=plate,
        seat=seat,
        driver_phone="+8613800138000",
    )
    rendered = [
        texts.render_departure(**facts),
        texts.render_reminder(**facts),
        texts.render_change(
            signature=SIG, date=day, time=at, pickup=pickup, plate=plate, seat=seat
        ),
        texts.render_welfare(signature=SIG, place=pickup, date=day, opens=time(9), closes=time(17)),
        texts.render_cancellation(signature=SIG, date=day, time=at, hotline="0357-12333"),
        texts.render_driver(
            signature=SIG, date=day, plate=plate, passengers=seat, link_hint=pickup
        ),
    ]
    for text in rendered:
        assert text.startswith(SIG) and text.endswith("回T退订")
        assert count_segments(text) <= 2
        assert texts.cn_date(day) in text


def test_other_kinds():
    assert (
        texts.render_reminder(
            signature=SIG,
            date=DAY,
            time=AT,
            pickup="尧都区",
            plate="晋L1",
            seat=3,
            driver_phone="+8613900139000",
        )
        == "【临汾人社】明日出发提醒：3月1日07:30尧都区上车，晋L1，3号座，司机13900139000。回T退订"
    )
    assert texts.render_change(signature=SIG, date=DAY, seat=5) == (
        "【临汾人社】乘车变更通知：您3月1日的乘车安排有变，座位改为5号，请以本短信为准。回T退订"
    )
    assert "暖心礼包" in texts.render_welfare(
        signature=SIG, place="人社局", date=DAY, opens=time(9), closes=time(17)
    )
    assert "已取消" in texts.render_cancellation(signature=SIG, date=DAY, hotline="0357-12333")
    driver = texts.render_driver(
        signature=SIG, date=DAY, plate="晋L12345", passengers=45, link_hint="乘客名单请向调度员索取"
    )
    assert "乘客45人" in driver and "http" not in driver


def test_urls_and_empty_changes_are_refused():
    with pytest.raises(ValueError, match="URL"):
        texts.render_driver(
            signature=SIG,
            date=DAY,
            plate="晋L1",
            passengers=1,
            link_hint="名单见 https://dispatch.example.cn/m/abc",
        )
    with pytest.raises(ValueError, match="change"):
        texts.render_change(signature=SIG, date=DAY)
