"""The notice templates as a provider's console asks for them (`flask sms templates`): name,
type, wording with ${variables}, each variable's meaning, type, limit and an example, the
purpose, and a sample as the phone shows it with the configured signature."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dispatch.notify.gateway import template_codes
from dispatch.notify.segments import count_segments
from dispatch.services.notices import templates
from dispatch.services.notices.journeys import signature_of
from dispatch.services.notices.templates import Template


@dataclass(frozen=True)
class Entry:
    kind: str
    template: Template
    code: str  # the approved template code configured for it, "" if none
    sample: str  # the example as the phone shows it, signature included
    over: int  # segments of the sample past the budget

    @property
    def segments(self) -> int:
        return count_segments(self.sample)


def configured_codes(config: Mapping[str, Any]) -> dict[str, str]:
    """The approved template codes; none when the setting is not valid JSON (the command that
    prints the templates to submit must work before the codes exist, or while they are wrong)."""
    try:
        return template_codes(config.get("ALIYUN_SMS_TEMPLATES"))
    except ValueError:
        return {}


def entries(config: Mapping[str, Any]) -> list[Entry]:
    """Every kind's template, in the order of CONTRACTS.md §7."""
    signature, codes = signature_of(config), configured_codes(config)
    return [
        Entry(
            kind,
            template,
            codes.get(kind, ""),
            templates.sample(template, signature),
            templates.over_budget(template, signature),
        )
        for kind, template in templates.TEMPLATES.items()
    ]


def lines(entry: Entry) -> list[str]:
    """One template as the console's form asks for it."""
    t = entry.template
    rule = {v.name: v.type.rule for v in t.variables_}
    budget = f"{entry.segments} 条，预算 {t.segments} 条"
    out = [
        f"== {entry.kind} · {t.title}" + ("  !! 超出条数预算" if entry.over else ""),
        f"模板类型：{t.scene}",
        f"模板名称：返岗专车{t.title}",
        f"模板内容：{t.zh}",
        "变量：",
    ]
    for v in t.variables_:
        out.append(
            f"  ${{{v.name}}}  {v.meaning}；{v.type.zh}（{v.type.rule}），"
            f"不超过{v.most}个字符；示例：{v.example}"
        )
    out += [
        f"TemplateRule：{json.dumps(rule, ensure_ascii=False)}",
        f"申请说明：{t.purpose}",
        f"示例短信：{entry.sample}（{len(entry.sample)} 字，{budget}）",
        f"English: {t.en}",
        f"已配置模板CODE：{entry.code or '未配置（该类短信将暂缓发送）'}",
        "",
    ]
    return out
