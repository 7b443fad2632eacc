"""Segment counting and the notices' words: always signed, one segment for what a worker
reads in nearly every case, never over two, every kind in both languages."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.notify.segments import count_segments
from dispatch.services.notices import templates, texts

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


def _segments_by_character(text: str) -> int:
    """The rule spelled out one character at a time, as count_segments was first written."""
    from dispatch.notify.segments import GSM7, GSM7_EXT

    if all(ch in GSM7 or ch in GSM7_EXT for ch in text):
        units, single, multi = sum(2 if ch in GSM7_EXT else 1 for ch in text), 160, 153
    else:
        units, single, multi = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text), 70, 67
    return 1 if units <= single else -(-units // multi)


GSM_TEXT = st.sampled_from("aZ9 @€^[\\\n¥é")  # GSM-7, with extension characters
UCS_TEXT = st.sampled_from("a9 €通县😀")  # UCS-2, with emoji


@settings(max_examples=300)
@given(
    st.text(alphabet=GSM_TEXT, min_size=80, max_size=330)
    | st.text(alphabet=UCS_TEXT, min_size=36, max_size=150)
    | st.text(max_size=200)
)
def test_count_segments_counts_as_the_rule_reads(text):
    assert count_segments(text) == _segments_by_character(text)


def _departure(**overrides):
    values = dict(
        day=DAY,
        at=AT,
        pickup="洪洞县人社局门前广场",
        plate="晋L12345",
        seat=12,
        phone="+8613800138000",
        by_driver=True,
    )
    return texts.departure(SIG, **{**values, **overrides})


def test_departure_reads_naturally_and_fits_one_segment():
    notice = _departure()
    assert notice.body == (
        "【临汾人社】您3月1日07:30在洪洞县人社局门前广场乘晋L12345车12号座，"
        "司机电话13800138000。回1确认，回2不去"
    )
    assert notice.segments == 1 and notice.kind == "departure"
    assert notice.params == {
        "time": "3月1日07:30",
        "pickup": "洪洞县人社局门前广场",
        "plate": "晋L12345",
        "seat": "12",
        "contact": "司机",
        "phone": "13800138000",
    }
    assert templates.render("departure", notice.params, SIG) == notice.body


def test_the_hotline_is_labelled_as_the_hotline():
    notice = _departure(phone="0357-12333", by_driver=False)
    assert "热线电话0357-12333" in notice.body and "司机" not in notice.body


def test_long_pickup_is_shortened_but_the_facts_stay_whole():
    notice = _departure(pickup="洪洞县大槐树镇贾村乡政府对面老供销社门口东侧停车场" * 4)
    assert notice.segments == 1 and "…" in notice.body
    for fact in ("3月1日07:30", "晋L12345", "12号座", "13800138000", "回1确认"):
        assert fact in notice.body


def test_a_slightly_long_pickup_is_cut_to_stay_in_one_segment():
    notice = _departure(pickup="洪洞县人社局门前广场东侧停车场", plate="晋LD12345", seat=51)
    assert notice.segments == 1 and notice.params["pickup"].startswith("洪洞县人社局")


names = st.text(
    st.characters(whitelist_categories=("Lo", "Lu", "Ll", "Nd")), min_size=1, max_size=200
)
pickups = st.sampled_from(
    ["古县人社局门前广场", "洪洞县人社局门前广场", "尧都区汾河公园东门停车场", "吉县"]
)
phones = st.sampled_from(["+8613800138000", "0357-12333", "0357-1234567", "400-123-1234"])


def _all_kinds(pickup, plate, seat, day, at, phone, lang="zh"):
    journey = dict(day=day, at=at, pickup=pickup, plate=plate, seat=seat, lang=lang)
    return [
        texts.departure(SIG, **journey, phone=phone, by_driver=phone.startswith("+86")),
        texts.reminder(SIG, **journey),
        texts.change(SIG, changed=["seat"], **journey),
        texts.change(SIG, changed=["time", "pickup", "plate", "seat"], **journey),
        texts.welfare(SIG, place=pickup, day=day, opens=time(9), closes=time(17), lang=lang),
        texts.cancellation(SIG, day=day, at=at, hotline=phone, lang=lang),
        texts.waiting(SIG, day=day, lang=lang),
        texts.driver(
            SIG,
            day=day,
            at=at,
            plate=plate,
            stops=[pickup, "尧都区", "昆山市", "太仓市"],
            passengers=seat,
            phone=phone,
            lang=lang,
        ),
    ]


@settings(max_examples=80, deadline=None)
@given(
    pickup=pickups,
    plate=st.sampled_from(["晋L12345", "晋L·A1037", "晋LD12345"]),
    seat=st.integers(1, 53),
    day=st.dates(),
    at=st.times(),
    phone=phones,
)
def test_realistic_notices_fit_their_budget_in_both_languages(pickup, plate, seat, day, at, phone):
    for lang in ("zh", "en"):
        for notice in _all_kinds(pickup, plate, seat, day, at, phone, lang):
            budget = templates.TEMPLATES[notice.kind].segments
            assert notice.body.startswith(SIG) and "回T退订" not in notice.body
            assert notice.segments <= (budget if lang == "zh" else 2), notice.body
            assert templates.render(notice.kind, notice.params, SIG, lang) == notice.body
            for name, value in notice.params.items():
                assert len(value) <= templates.template_for(notice.kind, notice.params).limits[name]
            if notice.kind in ("departure", "reminder", "change"):
                assert "待定" not in notice.body and f"{seat}号座" in notice.body or lang == "en"


@settings(max_examples=60, deadline=None)
@given(pickup=names, plate=names, seat=st.integers(1, 99), day=st.dates(), at=st.times())
def test_any_values_stay_within_two_segments_and_the_provider_limits(pickup, plate, seat, day, at):
    for notice in _all_kinds(pickup, plate, seat, day, at, "0357-12333"):
        assert notice.segments <= 2
        assert texts.cn_date(day) in notice.body or texts.cn_date(day)[:-1] in notice.body
        limits = templates.template_for(notice.kind, notice.params).limits
        assert all(len(v) <= limits[k] <= 35 for k, v in notice.params.items())


def test_other_kinds():
    assert texts.reminder(SIG, day=DAY, at=AT, pickup="尧都区", plate="晋L1", seat=3).body == (
        "【临汾人社】出发提醒：3月1日07:30在尧都区上车，晋L1车3号座，请带身份证提前20分钟到"
    )
    change = texts.change(
        SIG, changed=["seat"], day=DAY, at=AT, pickup="尧都区", plate="晋L1", seat=5
    )
    assert change.body == (
        "【临汾人社】您的座位有变，现为3月1日07:30在尧都区上车，晋L1车5号座，以此为准"
    )
    assert (
        "暖心礼包"
        in texts.welfare(SIG, place="人社局", day=DAY, opens=time(9), closes=time(17)).body
    )
    cancelled = texts.cancellation(SIG, day=DAY, at=None, hotline="0357-12333").body
    assert "已取消" in cancelled and "咨询热线0357-12333" in cancelled
    driver = texts.driver(
        SIG,
        day=DAY,
        at=AT,
        plate="晋L·A1037",
        stops=["洪洞县", "尧都区", "昆山市"],
        passengers=45,
        phone="0357-12333",
    )
    assert driver.body == (
        "【临汾人社】出车通知：3月1日07:30从洪洞县发车，晋L·A1037，经尧都区→昆山市，乘客45人，"
        "名单请联系调度0357-12333"
    )
    assert texts.waiting(SIG, day=DAY).body == (
        "【临汾人社】您已列入3月1日返岗专车名单，车辆确定后短信通知车牌和座位。"
    )


def test_a_long_route_is_summed_up_within_the_variable_limit():
    stops = [f"{name}人社局门前广场" for name in ("洪洞县", "尧都区", "襄汾县", "曲沃县", "侯马市")]
    text = texts.route_text(stops + ["昆山开发区", "太仓市"])
    assert len(text) <= 35 and text.startswith("洪洞县人社局") and "等7站" in text


def test_the_driver_link_goes_whole_or_not_at_all():
    link = "https://dispatch.example.cn/m/" + "a" * 40
    facts = dict(
        day=DAY, at=AT, plate="晋L1", stops=["洪洞县", "昆山市"], passengers=3, phone="0357-12333"
    )
    with_link = texts.driver(SIG, **facts, link=link)
    assert link in with_link.body and with_link.params["link"] == link
    too_long = texts.driver(SIG, **facts, link=link + "b" * 200)
    assert "http" not in too_long.body and "0357-12333" in too_long.body


def test_urls_and_empty_changes_are_refused():
    with pytest.raises(ValueError, match="URL"):
        texts.welfare(
            SIG, place="见 https://dispatch.example.cn/m/abc", day=DAY, opens=AT, closes=AT
        )
    with pytest.raises(ValueError, match="change"):
        texts.change(SIG, changed=[], day=DAY, at=AT, pickup="x", plate="y", seat=1)


def test_every_template_is_submittable():
    for kind, template in templates.TEMPLATES.items():
        assert (
            template.purpose and template.en and set(template.variables()) == set(template.limits)
        )
        assert all(limit <= 35 for limit in template.limits.values())
        assert templates.over_budget(template, SIG) == 0, kind
        assert not any("http" in v.example for v in template.variables_)


def test_a_pickup_points_name_and_address_never_run_together_and_a_cut_spares_the_name():
    from dispatch.services.notices.journeys import place_name

    assert place_name("洪洞县", "洪洞县人社局门前广场") == "洪洞县人社局门前广场"
    assert place_name("洪洞县汽车站", "") == "洪洞县汽车站"
    place = place_name("洪洞县汽车站", "洪洞县大槐树镇古槐路88号汽车站东侧停车场")
    assert place == "洪洞县汽车站（洪洞县大槐树镇古槐路88号汽车站东侧停车场）"
    notice = _departure(pickup=place, plate="晋L·D6677")
    assert notice.segments == 1
    assert "在洪洞县汽车站（" in notice.body  # the address was cut to fit, never the name
    assert "洪洞县汽车站洪洞县" not in notice.body
