"""The audit log in words: a name for every action the code records, masked numbers, no ids."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from dispatch.extensions import db
from dispatch.models import AuditEvent
from dispatch.services import audit, audit_log

DISPATCH = Path(__file__).resolve().parents[2] / "dispatch"


def _recorded_actions() -> set[str]:
    """Every literal action passed to ``audit.record(`` anywhere in dispatch/."""
    found: set[str] = set()
    for source in DISPATCH.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        for call in re.finditer(r"audit\.record\(([^()]|\([^()]*\))*?\)", text, re.S):
            found.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', call.group(0)))
        found.update(
            f"seat.{m}"
            for m in re.findall(r'f"seat\.\{mark\}"', text) and ("boarded", "no_show", "pack")
        )
    return found


def test_every_action_the_code_records_has_a_name():
    actions = _recorded_actions()
    assert {"seat.pack", "trip.crew", "user.login"} <= actions  # the scan finds them
    assert actions <= set(audit_log.ACTION_LABELS), actions - set(audit_log.ACTION_LABELS)


def test_details_read_as_words_with_numbers_masked(app: Flask):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        event = audit.record(
            None,
            "worker.update",
            "worker",
            999,
            {
                "fields": ["phone", "pickup_site_id"],
                "phone": "+8613800138000",
                "id_number": "141002199001011234",
                "full": True,
            },
        )
        db.session.flush()
        (line,) = audit_log.describe([event], "Asia/Shanghai")
        text = "；".join(f"{k}：{v}" for k, v in line.details)
        assert "13800138000" not in text and "138****8000" in text
        assert "141002199001011234" not in text and "1410**********1234" in text
        assert "手机号、上车点" in text and "是" in text
        assert line.action == "修改人员信息"
        assert audit_log.action_label("seat.pack", {"value": False}) == "撤销礼包发放"
        assert audit_log.action_label("seat.attendance", {"value": "no_show"}) == "登记未到"
        assert db.session.get(AuditEvent, event.id) is not None
