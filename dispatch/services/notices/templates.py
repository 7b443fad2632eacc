"""Each notice kind as a provider template: its wording with ${variables}, in Chinese and
English, and the most characters each variable may carry.

A template-only provider (Alibaba Cloud SMS) is given the template code of the kind
(ALIYUN_SMS_TEMPLATES) and the variables one by one; the console and Twilio send the text
rendered here from the same wording and values, so what a person reads on the messages page
is what the phone shows. No variable may carry a link, and each stays within the length the
provider allows for a variable (35 characters; codes and numbers 20).

The kinds of the self-service pages live here; issue 18 moves the journey notices
(departure, reminder, welfare, change, cancellation, driver) into this registry as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

VERIFICATION, WAITING, REGISTRATION, ARRIVAL = "verification", "waiting", "registration", "arrival"
MASK = "******"  # a verification code as the pages and the API show it

_VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Template:
    kind: str
    zh: str  # as submitted for approval; ${name} marks a variable
    en: str
    limits: Mapping[str, int]  # variable → most characters it may carry
    purpose: str  # what the provider's console asks: why this message is sent

    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_VARIABLE.findall(self.zh)))

    def render(self, params: Mapping[str, str], lang: str = "zh") -> str:
        """The wording with ``params`` filled in (no signature)."""
        wording = self.en if lang == "en" else self.zh
        missing = set(self.variables()) - set(params)
        if missing:
            raise ValueError(f"{self.kind}: no value for {', '.join(sorted(missing))}")
        return _VARIABLE.sub(lambda found: str(params[found.group(1)]), wording)


TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in (
        Template(
            VERIFICATION,
            "验证码${code}，5分钟内有效，请勿告诉他人。",
            "Your code is ${code}, valid for 5 minutes. Do not share it.",
            {"code": 6},
            "务工人员自助报名、查询乘车信息时验证手机号",
        ),
        Template(
            WAITING,
            "您已列入${date}返岗专车名单，车辆确定后短信通知车牌和座位。",
            "You are on the list for the ${date} bus; a text with the plate and seat follows.",
            {"date": 20},
            "务工人员已排车但车辆未定时告知其已列入名单",
        ),
        Template(
            REGISTRATION,
            "您的返岗专车报名${result}。咨询电话${hotline}。",
            "Your registration for the bus ${result}. Hotline ${hotline}.",
            {"result": 35, "hotline": 20},
            "务工人员自助报名经审核通过或未通过时告知结果",
        ),
        Template(
            ARRIVAL,
            "您已到达${place}，用工单位联系人${contact}，电话${phone}。",
            "You have arrived at ${place}. Your employer's contact is ${contact}, ${phone}.",
            {"place": 35, "contact": 20, "phone": 20},
            "务工人员乘专车到达用工单位后告知接收联系人",
        ),
    )
}


def render(kind: str, params: Mapping[str, str], signature: str, lang: str = "zh") -> str:
    """The text as the phone shows it: the signature, then the template filled in."""
    return f"{signature}{TEMPLATES[kind].render(params, lang)}"


def fit_params(kind: str, params: Mapping[str, object]) -> dict[str, str]:
    """``params`` as strings, each cut to its variable's limit (marked …)."""
    limits = TEMPLATES[kind].limits
    fitted = {}
    for name, value in params.items():
        text = str(value)
        limit = limits.get(name, 35)
        fitted[name] = text if len(text) <= limit else text[: limit - 1] + "…"
    return fitted
