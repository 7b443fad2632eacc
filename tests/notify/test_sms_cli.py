"""`flask sms templates`: every notice kind's template as the provider's console asks for it."""

from __future__ import annotations

import json

from dispatch.services.notices import templates
from dispatch.services.notices.journeys import NoticeSettings
from tests.support.apps import make_app


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["sms", "templates", *args])


def test_every_kind_is_printed_ready_to_submit(tmp_path):
    app = make_app(
        tmp_path,
        SMS_BACKEND="aliyun",
        ALIYUN_SMS_SIGN_NAME="临汾人社",
        ALIYUN_ACCESS_KEY_ID="id",
        ALIYUN_ACCESS_KEY_SECRET="secret",
        ALIYUN_SMS_TEMPLATES=json.dumps({"departure": "SMS_123456"}),
    )
    result = _run(app)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("短信签名：【临汾人社】")
    for kind, template in templates.TEMPLATES.items():
        assert f"== {kind} · " in out and f"模板内容：{template.zh}" in out
        assert f"申请说明：{template.purpose}" in out
        for variable in template.variables_:
            assert f"${{{variable.name}}}  {variable.meaning}；{variable.type.zh}" in out
            assert f"不超过{variable.most}个字符；示例：{variable.example}" in out
    assert "已配置模板CODE：SMS_123456" in out and "模板类型：验证码" in out
    assert "http" not in out and "超出" not in out and not result.stderr
    sample = next(line for line in out.splitlines() if line.startswith("示例短信：【临汾人社】您"))
    assert "（67 字，1 条，预算 1 条）" in sample  # the departure notice, signature included


def test_one_kind_and_a_template_over_its_budget_is_flagged(tmp_path):
    app = make_app(tmp_path, SMS_SIGNATURE="【临汾市人力资源和社会保障局返岗专车服务】")
    result = _run(app, "--kind", "departure")
    assert result.exit_code == 0
    assert "== departure · 乘车通知  !! 超出条数预算" in result.output
    assert "== reminder" not in result.output and "超出条数预算：departure" in result.stderr
    assert _run(app, "--kind", "nonsense").exit_code != 0


def test_notices_carry_the_signature_the_phone_shows():
    """Aliyun puts its registered sign name before the text, whatever SMS_SIGNATURE says: the
    stored text (the pages, the segment count) carries that one."""
    aliyun = {"SMS_BACKEND": "aliyun", "ALIYUN_SMS_SIGN_NAME": "洪洞人社", "SMS_SIGNATURE": "【x】"}
    assert NoticeSettings.from_config(aliyun).signature == "【洪洞人社】"
    assert NoticeSettings.from_config({"SMS_SIGNATURE": "【测试】"}).signature == "【测试】"
