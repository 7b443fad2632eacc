"""The words of every journey notice: plain facts in, a ``Notice`` out (its kind, the template
variables one by one, and the text as the phone shows it, rendered from templates.py).

What matters comes first and fits one 70-character segment, signature included: the date and
time, the pickup, the plate, the seat, then a phone number (DOMAIN.md, SMS). When the values
run long, the pickup place is shortened first (the worker knows their county's point), down
to a readable minimum; past that the notice takes two segments rather than lose a fact.
Nothing here carries a URL but the driver's manifest link (``driver``), and only when asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

from dispatch.notify.segments import count_segments
from dispatch.services.notices import templates as t

MAX_SEGMENTS = 2
ELLIPSIS = t.ELLIPSIS
_URL = re.compile(r"https?://|www\.|\.(com|cn|net|org)\b", re.IGNORECASE)
# What a change notice names, in the order it names them (changes.py compares facts).
CHANGE_WORDS = {"time": "上车时间", "pickup": "上车点", "plate": "车牌", "seat": "座位"}
CHANGE_WORDS_EN = {"time": "time", "pickup": "pickup point", "plate": "bus", "seat": "seat"}
CONTACT_WORDS = {"zh": ("司机", "热线"), "en": ("driver", "hotline")}


@dataclass(frozen=True)
class Notice:
    kind: str
    params: dict[str, str]
    body: str

    @property
    def segments(self) -> int:
        return count_segments(self.body)


def cn_date(day: date) -> str:
    """3月1日."""
    return f"{day.month}月{day.day}日"


def cn_time(moment: time) -> str:
    """07:30."""
    return f"{moment:%H:%M}"


def when(day: date, moment: time | None, lang: str = "zh") -> str:
    """3月1日07:30 (Mar 1 07:30 in English): one variable, as the provider refuses two side
    by side; the date alone without ``moment``."""
    if lang == "en":
        return f"{day:%b} {day.day}" + ("" if moment is None else f" {cn_time(moment)}")
    return cn_date(day) + ("" if moment is None else cn_time(moment))


def cn_phone(phone: str) -> str:
    """+8613800138000 → 13800138000 (what a person in China dials); others unchanged."""
    return phone[3:] if phone.startswith("+86") else phone


def departure(
    signature: str,
    *,
    day: date,
    at: time,
    pickup: str,
    plate: str,
    seat: int | str,
    phone: str,
    by_driver: bool,
    lang: str = "zh",
) -> Notice:
    """The departure notice, sent once the bus has its plate; ``phone`` is the driver's, or
    the bureau's hotline (labelled as such) while no driver is set."""
    params = {
        **_journey(day, at, pickup, plate, seat, lang),
        "contact": CONTACT_WORDS[lang][0 if by_driver else 1],
        "phone": cn_phone(phone),
    }
    return fit(t.DEPARTURE, signature, params, PICKUP_FIRST, lang=lang)


def reminder(
    signature: str,
    *,
    day: date,
    at: time,
    pickup: str,
    plate: str,
    seat: int | str,
    lang: str = "zh",
) -> Notice:
    """The reminder of the evening before: the same facts, and to bring the ID card."""
    params = _journey(day, at, pickup, plate, seat, lang)
    return fit(t.REMINDER, signature, params, PICKUP_FIRST, lang=lang)


def change(
    signature: str,
    *,
    changed: Sequence[str],
    day: date,
    at: time,
    pickup: str,
    plate: str,
    seat: int | str,
    lang: str = "zh",
) -> Notice:
    """A change notice naming only what ``changed`` (keys of CHANGE_WORDS), then the journey
    as it now stands."""
    if not changed:
        raise ValueError("a change notice needs at least one change")
    named = changed_words(changed, lang)
    params = {"changed": named, **_journey(day, at, pickup, plate, seat, lang)}
    return fit(t.CHANGE, signature, params, PICKUP_FIRST, lang=lang)


def changed_words(changed: Sequence[str], lang: str = "zh") -> str:
    """座位 / 车牌和座位 / 上车时间、车牌和座位."""
    table = CHANGE_WORDS_EN if lang == "en" else CHANGE_WORDS
    words = [table[key] for key in table if key in changed]
    last, comma = (" and ", ", ") if lang == "en" else ("和", "、")
    return words[0] if len(words) == 1 else comma.join(words[:-1]) + last + words[-1]


# The welfare and waiting notices depend only on their arguments, which a bus's passengers share:
# remembered, a season's 200,000 of them are fitted a few thousand times (their params are
# never changed after, so notices may share them).
@lru_cache(maxsize=8192)
def welfare(
    signature: str, *, place: str, day: date, opens: time, closes: time, lang: str = "zh"
) -> Notice:
    """The welfare-pack (暖心礼包) pickup reminder."""
    params = {"time": f"{when(day, opens, lang)}-{cn_time(closes)}", "place": place}
    return fit(t.WELFARE, signature, params, (("place", 7),), lang=lang)


def cancellation(
    signature: str, *, day: date, at: time | None, hotline: str, lang: str = "zh"
) -> Notice:
    """The notice that a worker's journey is cancelled."""
    params = {"time": when(day, at, lang), "hotline": cn_phone(hotline)}
    return fit(t.CANCELLATION, signature, params, (), lang=lang)


@lru_cache(maxsize=1024)
def waiting(signature: str, *, day: date, lang: str = "zh") -> Notice:
    """On the list, no bus yet: a notice with the plate and seat follows."""
    return fit(t.WAITING, signature, {"date": when(day, None, lang)}, (), lang=lang)


def driver(
    signature: str,
    *,
    day: date,
    at: time,
    plate: str,
    stops: Sequence[str],
    passengers: int,
    phone: str,
    link: str = "",
    lang: str = "zh",
) -> Notice:
    """The driver's notice: when, the first stop, the coach, the stops after it in order, how many
    passengers, and whom to ask for the list (``phone``) or, when given, the signed manifest
    ``link`` (free-text backends only: see templates.DRIVER_LINK). A link is never cut (half
    a link opens nothing): if it does not fit whole, the notice goes with the phone."""
    params = {
        "time": when(day, at, lang),
        "first": stops[0] if stops else "",
        "plate": plate,
        "stops": route_text(stops[1:]),
        "count": str(passengers),
    }
    if link:
        try:
            notice = fit(t.DRIVER, signature, {**params, "link": link}, DRIVER_SHRINK, link, lang)
        except ValueError:  # over two segments even with the stops cut
            notice = None
        if notice is not None and link in notice.body:
            return notice
    params["phone"] = cn_phone(phone)
    return fit(t.DRIVER, signature, params, DRIVER_SHRINK, lang=lang)


def driver_cancel(
    signature: str, *, day: date, at: time, first: str, plate: str, phone: str, lang: str = "zh"
) -> Notice:
    """The driver's notice that a trip they were told of will not run."""
    params = {"time": when(day, at, lang), "first": first, "plate": plate, "phone": cn_phone(phone)}
    return fit(t.DRIVER_CANCEL, signature, params, (("first", 4),), lang=lang)


def route_text(stops: Sequence[str], most: int = t.TEXT_LIMIT) -> str:
    """洪洞县→尧都区→昆山市; past ``most`` characters the names lose their 县/区/市, then the
    tail is summed up (…等5站)."""
    if not stops:
        return "终点"
    for names in (list(stops), [_short_name(s) for s in stops]):
        text = "→".join(names)
        if len(text) <= most:
            return text
    for keep in range(len(names) - 1, 0, -1):
        text = "→".join(names[:keep]) + f"等{len(names)}站"
        if len(text) <= most:
            return text
    return t.cut(names[0], most - 4) + f"等{len(names)}站"


def _short_name(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "县区市镇" else name


def _journey(
    day: date, at: time, pickup: str, plate: str, seat: int | str, lang: str = "zh"
) -> dict[str, str]:
    return {"time": when(day, at, lang), "pickup": pickup, "plate": plate, "seat": str(seat)}


# One segment first: the pickup keeps at least its first six characters (洪洞县人社局…), then
# the notice takes a second segment; only absurd values are cut further, to keep within two.
PICKUP_FIRST: Sequence[tuple[str, int]] = (("pickup", 7),)
PAST_TWO: Sequence[tuple[str, int]] = (
    ("pickup", 2),
    ("place", 2),
    ("plate", 2),
    ("changed", 2),
    ("stops", 2),
    ("first", 2),
    ("seat", 1),
    ("phone", 1),
)
DRIVER_SHRINK: Sequence[tuple[str, int]] = (("stops", 8), ("first", 3))


def fit(
    kind: str,
    signature: str,
    params: Mapping[str, str],
    shrink: Sequence[tuple[str, int]],
    allowed_url: str = "",
    lang: str = "zh",
) -> Notice:
    """``params`` cut to the provider's limits, then shortened in ``shrink`` order until the
    text fits the template's segment budget; never past two segments."""
    values = t.fit_params(kind, params)

    def body() -> str:
        return t.render(kind, values, signature, lang)

    budget = t.template_for(kind, values).segments
    _shorten_until(values, body, budget, shrink)
    _shorten_until(values, body, MAX_SEGMENTS, PAST_TWO)
    text = body()
    if count_segments(text) > MAX_SEGMENTS:
        raise ValueError("SMS cannot fit in two segments; shorten the signature")
    if _URL.search(text.replace(allowed_url, "") if allowed_url else text):
        raise ValueError("no URLs in SMS to Chinese numbers (carriers block them)")
    return Notice(kind, values, text)


def _shorten_until(values: dict[str, str], body, budget: int, shrink) -> None:
    for name, minimum in shrink:
        while name in values and count_segments(body()) > budget and len(values[name]) > minimum:
            values[name] = _shorter(values[name], minimum)


def _shorter(value: str, minimum: int) -> str:
    """One character shorter, the cut marked with an ellipsis."""
    core = value.removesuffix(ELLIPSIS)[: max(len(value) - 2, 0)]
    return core + ELLIPSIS if core else ""
