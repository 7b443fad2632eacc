"""The wording of every notice: the Chinese SMS texts (pure: plain values in, text out).

Every notice starts with the signature, ends with the opt-out convention 回T退订, carries
no URL (carriers block them on Chinese numbers; the one exception is the driver's signed
manifest link, see ``render_driver``) and fits in two segments: when the
values are too long, the least important parts are shortened first (DOMAIN.md, SMS).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, time

from dispatch.notify.segments import count_segments

MAX_SEGMENTS = 2
OPT_OUT = "回T退订"
ELLIPSIS = "…"
_URL = re.compile(r"https?://|www\.|\.(com|cn|net|org)\b", re.IGNORECASE)


def cn_date(day: date) -> str:
    """3月1日."""
    return f"{day.month}月{day.day}日"


def cn_time(moment: time) -> str:
    """07:30."""
    return f"{moment:%H:%M}"


def cn_phone(phone: str) -> str:
    """+8613800138000 → 13800138000 (what a person in China dials); others unchanged."""
    return phone[3:] if phone.startswith("+86") else phone


def render_departure(
    *,
    signature: str,
    date: date,
    time: time,
    pickup: str,
    plate: str,
    seat: int | str,
    driver_phone: str,
) -> str:
    """The departure notice sent when seats are published."""
    values = {
        "pickup": pickup,
        "plate": plate,
        "seat": str(seat),
        "phone": cn_phone(driver_phone),
        "advice": "请带身份证提前20分钟到达。",
    }

    def text(v: Mapping[str, str]) -> str:
        return (
            f"乘车通知：您{cn_date(date)}{cn_time(time)}在{v['pickup']}上车，车牌{v['plate']}，"
            f"座位{v['seat']}号，司机电话{v['phone']}。{v['advice']}"
        )

    return _fit(signature, text, values, _FACT_SHRINK)


def render_reminder(
    *,
    signature: str,
    date: date,
    time: time,
    pickup: str,
    plate: str,
    seat: int | str,
    driver_phone: str,
) -> str:
    """The day-before reminder: the same facts, shorter."""
    values = {"pickup": pickup, "plate": plate, "seat": str(seat), "phone": cn_phone(driver_phone)}

    def text(v: Mapping[str, str]) -> str:
        return (
            f"明日出发提醒：{cn_date(date)}{cn_time(time)}{v['pickup']}上车，{v['plate']}，"
            f"{v['seat']}号座，司机{v['phone']}。"
        )

    return _fit(signature, text, values, _FACT_SHRINK)


def render_welfare(*, signature: str, place: str, date: date, opens: time, closes: time) -> str:
    """The welfare-pack (暖心礼包) pickup reminder."""
    values = {"place": place}

    def text(v: Mapping[str, str]) -> str:
        return (
            f"暖心礼包领取提醒：请于{cn_date(date)}{cn_time(opens)}-{cn_time(closes)}"
            f"凭身份证到{v['place']}领取。"
        )

    return _fit(signature, text, values, [("place", 1)])


def render_change(
    *,
    signature: str,
    date: date,
    time: time | None = None,
    pickup: str | None = None,
    plate: str | None = None,
    seat: int | str | None = None,
) -> str:
    """A change notice naming only what changed (new time, pickup, plate or seat)."""
    if time is None and pickup is None and plate is None and seat is None:
        raise ValueError("a change notice needs at least one change")
    values = {
        "time": "" if time is None else f"发车时间改为{cn_time(time)}，",
        "pickup": pickup or "",
        "plate": plate or "",
        "seat": "" if seat is None else str(seat),
    }

    def text(v: Mapping[str, str]) -> str:
        changes = v["time"]
        changes += f"上车点改为{v['pickup']}，" if pickup is not None else ""
        changes += f"车牌改为{v['plate']}，" if plate is not None else ""
        changes += f"座位改为{v['seat']}号，" if seat is not None else ""
        return f"乘车变更通知：您{cn_date(date)}的乘车安排有变，{changes}请以本短信为准。"

    return _fit(signature, text, values, _FACT_SHRINK)


def render_cancellation(
    *, signature: str, date: date, hotline: str, time: time | None = None
) -> str:
    """The notice that a worker's journey is cancelled."""
    when = cn_date(date) + ("" if time is None else cn_time(time))
    values = {"hotline": cn_phone(hotline)}

    def text(v: Mapping[str, str]) -> str:
        return f"乘车取消通知：您{when}的乘车安排已取消，如有疑问请致电{v['hotline']}。"

    return _fit(signature, text, values, [("hotline", 1)])


def render_driver(
    *, signature: str, date: date, plate: str, passengers: int, link_hint: str, link: str = ""
) -> str:
    """The driver's notice, with the signed manifest ``link`` when one is given.

    That link is the one URL an SMS here may carry: drivers are few and known, and a bureau
    that sends it registers its domain with the SMS provider (DRIVER_SMS_LINK). A link is
    never shortened (half a link opens nothing): if it does not fit whole, the notice goes
    without it and ``link_hint`` says whom to ask.
    """
    if link:
        try:
            return _fit(
                signature,
                _driver_text(date, passengers, f"乘车名单 {link} "),
                {"plate": plate},
                [("plate", 1)],
                allowed_url=link,
            )
        except ValueError:
            pass
    values = {"plate": plate, "hint": link_hint}
    return _fit(
        signature, _driver_text(date, passengers, None), values, [("hint", 0), ("plate", 1)]
    )


def _driver_text(
    day: date, passengers: int, tail: str | None
) -> Callable[[Mapping[str, str]], str]:
    def text(v: Mapping[str, str]) -> str:
        rest = tail if tail is not None else (f"{v['hint']}。" if v["hint"] else "")
        return f"出车通知：{cn_date(day)}车辆{v['plate']}，乘客{passengers}人。{rest}"

    return text


# Shorten the pickup place first (the worker knows their county's point), drop the advice,
# then cut what is left only as a last resort (absurd input still yields two segments).
_FACT_SHRINK: Sequence[tuple[str, int]] = (
    ("pickup", 8),
    ("advice", 0),
    ("pickup", 2),
    ("plate", 2),
    ("seat", 1),
    ("phone", 1),
)

Shrinkable = Sequence[tuple[str, int]]


def _fit(
    signature: str,
    text: Callable[[Mapping[str, str]], str],
    values: dict[str, str],
    shrink: Shrinkable,
    allowed_url: str = "",
) -> str:
    """Render, shortening ``values`` in ``shrink`` order until the SMS fits in two segments."""
    values = dict(values)

    def whole() -> str:
        return f"{signature}{text(values)}{OPT_OUT}"

    for name, minimum in shrink:
        while (
            name in values
            and count_segments(whole()) > MAX_SEGMENTS
            and _units(values[name]) > minimum
        ):
            values[name] = _shorten(values[name], minimum)
    result = whole()
    if count_segments(result) > MAX_SEGMENTS:
        raise ValueError("SMS cannot fit in two segments; shorten the signature")
    if _URL.search(result.replace(allowed_url, "") if allowed_url else result):
        raise ValueError("no URLs in SMS to Chinese numbers (carriers block them)")
    return result


def _shorten(value: str, minimum: int) -> str:
    """One character shorter, marked with an ellipsis; below two characters, gone."""
    if minimum == 0 and _units(value) <= 2:
        return ""
    core = value[:-1] if value.endswith(ELLIPSIS) else value
    core = core[:-1]
    return (core + ELLIPSIS) if core else ""


def _units(value: str) -> int:
    return len(value)
