"""Each notice kind as a provider template: its wording with ${variables}, in Chinese and
English, each variable's meaning, type and most characters, and the purpose the provider's
console asks for (CONTRACTS.md §7; `flask sms templates` prints them for approval).

A template-only provider (Alibaba Cloud SMS) is given the template code of the kind
(ALIYUN_SMS_TEMPLATES) and the variables one by one; the console and Twilio send the text
rendered here from the same wording and values, so what a person reads on the messages page
is what the phone shows. No variable of a template submitted to a provider carries a link,
and each stays within what the provider allows for a variable (35 characters; numbers and
codes 20).

Every kind is a service notification (or a verification code), never marketing, so none
carries the opt-out words 回T退订 (DOMAIN.md: carriers require them of marketing); a worker
who answers T or 退订 is still opted out (dispatch.notify.suppression).

The driver's manifest link is the one exception to "no links": ``DRIVER_LINK`` is a wording
used only by a backend that sends free text (console, Twilio) when DRIVER_SMS_LINK is set; it
is never submitted to a template provider, whose drivers get the coordinator's number in the
registered ``driver`` template instead (texts.driver decides).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dispatch.notify.segments import count_segments

DEPARTURE, REMINDER, WELFARE = "departure", "reminder", "welfare"
CHANGE, CANCELLATION, DRIVER = "change", "cancellation", "driver"
VERIFICATION, WAITING, REGISTRATION, ARRIVAL = "verification", "waiting", "registration", "arrival"
DRIVER_CANCEL = "driver_cancel"
MASK = "******"  # a verification code as the pages and the API show it
ELLIPSIS = "…"
TEXT_LIMIT, NUMBER_LIMIT = 35, 20  # the provider's most characters per variable

_VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class VarType:
    """A variable's type as the provider's console names it (Alibaba Cloud's TemplateRule)."""

    key: str
    zh: str  # what the console's drop-down says
    rule: str  # the TemplateRule value of the CreateSmsTemplate API
    limit: int


TIME = VarType("time", "时间", "time", NUMBER_LIMIT)
PHONE = VarType("phone", "电话号码", "phone_number2", 15)
NUMBER = VarType("number", "其他号码", "other_number2", NUMBER_LIMIT)
TEXT = VarType("text", "其他", "others", TEXT_LIMIT)
CODE = VarType("code", "仅数字（验证码）", "numberCaptcha", 6)


@dataclass(frozen=True)
class Variable:
    name: str
    meaning: str  # in Chinese, as the console's 变量说明 asks
    type: VarType
    example: str
    limit: int = 0  # 0: the type's limit

    @property
    def most(self) -> int:
        return self.limit or self.type.limit


@dataclass(frozen=True)
class Template:
    kind: str
    zh: str  # as submitted for approval; ${name} marks a variable
    en: str
    variables_: tuple[Variable, ...]
    purpose: str  # what the provider's console asks: why this message is sent
    title: str  # the kind's name in Chinese (the console's 模板名称: 返岗专车 + title)
    segments: int = 1  # the budget, signature included (worker notices: one)
    scene: str = "通知短信"  # the console's template type: 通知短信 or 验证码

    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_VARIABLE.findall(self.zh)))

    @property
    def limits(self) -> dict[str, int]:
        """Variable → most characters it may carry."""
        return {v.name: v.most for v in self.variables_}

    def example(self) -> dict[str, str]:
        return {v.name: v.example for v in self.variables_}

    def render(self, params: Mapping[str, str], lang: str = "zh") -> str:
        """The wording with ``params`` filled in (no signature)."""
        wording = self.en if lang == "en" else self.zh
        missing = set(self.variables()) - set(params)
        if missing:
            raise ValueError(f"{self.kind}: no value for {', '.join(sorted(missing))}")
        return _VARIABLE.sub(lambda found: str(params[found.group(1)]), wording)


def _v(name: str, meaning: str, kind: VarType, example: str, limit: int = 0) -> Variable:
    return Variable(name, meaning, kind, example, limit)


WHEN = _v("time", "上车日期和时间", TIME, "3月1日07:30")
PICKUP = _v("pickup", "上车地点", TEXT, "洪洞县人社局门前广场")
PLATE = _v("plate", "车牌号", TEXT, "晋L·A1037", 10)
SEAT = _v("seat", "座位号", NUMBER, "12", 3)
HOTLINE = _v("hotline", "咨询热线", PHONE, "0357-12333")

TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in (
        Template(
            DEPARTURE,
            "您${time}在${pickup}乘${plate}车${seat}号座，${contact}电话${phone}。回1确认，回2不去",
            "Bus ${time} from ${pickup}: ${plate}, seat ${seat}; ${contact} phone ${phone}. "
            "Reply 1 to confirm, 2 if not coming",
            (
                WHEN,
                PICKUP,
                PLATE,
                SEAT,
                _v("contact", "联系人：司机或热线", TEXT, "司机", 2),
                _v("phone", "司机或咨询热线电话", PHONE, "13800138000"),
            ),
            "返岗专车车辆确定后，告知务工人员上车时间、地点、车牌和座位；回复1确认乘车，2不乘车",
            title="乘车通知",
        ),
        Template(
            REMINDER,
            "出发提醒：${time}在${pickup}上车，${plate}车${seat}号座，请带身份证提前20分钟到",
            "Reminder: bus ${time} from ${pickup}, ${plate}, seat ${seat}. "
            "Bring your ID card and come 20 minutes early",
            (WHEN, PICKUP, PLATE, SEAT),
            "返岗专车出发前一天提醒务工人员上车时间、地点并携带身份证",
            title="出发提醒",
        ),
        Template(
            WELFARE,
            "领取提醒：请于${time}凭身份证到${place}领取暖心礼包",
            "Please collect your welfare pack at ${place}, ${time}, with your ID card",
            (
                _v("time", "领取日期和时段", TEXT, "2月28日14:00-17:00", NUMBER_LIMIT),
                _v("place", "领取地点", TEXT, "洪洞县人社局门前广场"),
            ),
            "告知乘坐返岗专车的务工人员出发前领取暖心礼包（出行物资）的时间和地点",
            title="礼包领取提醒",
        ),
        Template(
            CHANGE,
            "您的${changed}有变，现为${time}在${pickup}上车，${plate}车${seat}号座，以此为准",
            "Your ${changed} changed: bus ${time} from ${pickup}, ${plate}, seat ${seat}. "
            "This text replaces earlier ones",
            (
                _v("changed", "变更的事项", TEXT, "座位", 16),
                WHEN,
                PICKUP,
                PLATE,
                SEAT,
            ),
            "返岗专车上车时间、地点、车辆或座位调整后，告知务工人员调整后的安排",
            title="乘车变更通知",
        ),
        Template(
            CANCELLATION,
            "您${time}的返岗专车乘车安排已取消，如有疑问请致电咨询热线${hotline}",
            "Your bus seat of ${time} is cancelled. Questions: hotline ${hotline}",
            (WHEN, HOTLINE),
            "务工人员的返岗专车乘车安排取消时告知本人",
            title="乘车取消通知",
        ),
        Template(
            DRIVER,
            "出车通知：${time}从${first}发车，${plate}，经${stops}，乘客${count}人，"
            "名单请联系调度${phone}",
            "Driving: ${time} from ${first}, ${plate}, via ${stops}, ${count} passengers; "
            "passenger list from dispatch ${phone}",
            (
                _v("time", "发车日期和时间", TIME, "3月1日07:00"),
                _v("first", "首个上车点", TEXT, "洪洞县", 12),
                PLATE,
                _v("stops", "其后停靠点（按顺序）", TEXT, "尧都区→昆山市→太仓市"),
                _v("count", "乘客人数", NUMBER, "45", 3),
                _v("phone", "调度电话", PHONE, "0357-12333"),
            ),
            "告知包车司机出车日期、时间、首站、停靠点顺序和乘客人数",
            segments=2,
            title="出车通知",
        ),
        Template(
            DRIVER_CANCEL,
            "出车取消：${time}从${first}发车的${plate}已取消，无需出车。疑问请联系调度${phone}",
            "Trip cancelled: ${plate} from ${first} at ${time} will not run; do not drive. "
            "Questions: dispatch ${phone}",
            (
                _v("time", "原定发车日期和时间", TIME, "3月1日07:00"),
                _v("first", "首个上车点", TEXT, "洪洞县", 12),
                PLATE,
                _v("phone", "调度电话", PHONE, "0357-12333"),
            ),
            "已通知出车的包车行程取消（乘客均已改乘其他车辆）时告知司机无需出车",
            title="出车取消通知",
        ),
        Template(
            VERIFICATION,
            "验证码${code}，5分钟内有效，请勿告诉他人。",
            "Your code is ${code}, valid for 5 minutes. Do not share it.",
            (_v("code", "验证码", CODE, "123456"),),
            "务工人员自助报名、查询乘车信息时验证手机号",
            scene="验证码",
            title="手机验证码",
        ),
        Template(
            WAITING,
            "您已列入${date}返岗专车名单，车辆确定后短信通知车牌和座位。",
            "You are on the list for the ${date} bus; a text with the plate and seat follows.",
            (_v("date", "乘车日期", TEXT, "3月1日", NUMBER_LIMIT),),
            "务工人员已排车但车辆未定时告知其已列入名单",
            title="已列入名单通知",
        ),
        Template(
            REGISTRATION,
            "您的返岗专车报名${result}。咨询热线${hotline}。",
            "Your registration for the bus ${result}. Hotline ${hotline}.",
            (_v("result", "审核结果", TEXT, "已通过，排车后短信通知"), HOTLINE),
            "务工人员自助报名经审核通过或未通过时告知结果",
            title="报名审核结果",
        ),
        Template(
            ARRIVAL,
            "您已到达${place}，用工单位联系人${contact}，电话${phone}。",
            "You have arrived at ${place}. Your employer's contact is ${contact}, ${phone}.",
            (
                _v("place", "到达地点", TEXT, "昆山市开发区"),
                _v("contact", "用工单位联系人", TEXT, "王经理", NUMBER_LIMIT),
                _v("phone", "联系人电话", PHONE, "13900139000"),
            ),
            "务工人员乘专车到达用工单位后告知接收联系人",
            title="到达通知",
        ),
    )
}

# The driver's notice with the signed manifest link: free-text backends only, never submitted.
DRIVER_LINK = Template(
    DRIVER,
    "出车通知：${time}从${first}发车，${plate}，经${stops}，乘客${count}人，名单 ${link} ",
    "Driving: ${time} from ${first}, ${plate}, via ${stops}, ${count} passengers; list ${link} ",
    (*TEMPLATES[DRIVER].variables_[:5], _v("link", "乘客名单链接", TEXT, "https://…", 200)),
    "",
    title=TEMPLATES[DRIVER].title,
    segments=2,
)


def template_for(kind: str, params: Mapping[str, object]) -> Template:
    """The template ``params`` fill: the kind's, or the driver's link wording."""
    return DRIVER_LINK if kind == DRIVER and "link" in params else TEMPLATES[kind]


def render(kind: str, params: Mapping[str, str], signature: str, lang: str = "zh") -> str:
    """The text as the phone shows it: the signature, then the template filled in."""
    return f"{signature}{template_for(kind, params).render(params, lang)}"


def fit_params(kind: str, params: Mapping[str, object]) -> dict[str, str]:
    """``params`` as strings, each cut to its variable's limit (marked …)."""
    limits = template_for(kind, params).limits
    return {name: cut(str(value), limits.get(name, TEXT_LIMIT)) for name, value in params.items()}


def cut(text: str, most: int) -> str:
    """``text`` in at most ``most`` characters, a cut marked with an ellipsis."""
    return text if len(text) <= most else text[: max(most - 1, 0)] + ELLIPSIS


def sample(template: Template, signature: str, lang: str = "zh") -> str:
    """The template's example as the phone shows it, signature included."""
    return signature + template.render(template.example(), lang)


def over_budget(template: Template, signature: str, lang: str = "zh") -> int:
    """Segments of the example over the template's budget (0 when it fits)."""
    return max(count_segments(sample(template, signature, lang)) - template.segments, 0)
