"""`make run` hands out links (drivers' manifests) on the address it serves, unless an address
is configured."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_hands_out_links_to_the_address_it_serves():
    def dry_run(*args: str, **env: str) -> str:
        environment = {"PATH": "/usr/bin:/bin", **env}
        return subprocess.run(
            ["make", "-n", "run", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        ).stdout

    assert "--port 8123 --public-url http://127.0.0.1:8123" in dry_run("PORT=8123")
    everywhere = dry_run("HOST=0.0.0.0", "PORT=8000")
    assert "http://0.0.0.0" not in everywhere and re.search(
        r"--public-url http://\S+:8000", everywhere
    )


def test_the_served_address_gives_way_to_a_configured_one():
    from dispatch.commands import adopt_public_url

    served = {"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}  # the default: nothing configured
    adopt_public_url(served, "http://127.0.0.1:8123/")
    assert served["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    configured = {"PUBLIC_BASE_URL": "https://dispatch.example.cn"}
    adopt_public_url(configured, "http://127.0.0.1:8123")
    assert configured["PUBLIC_BASE_URL"] == "https://dispatch.example.cn"


def test_the_console_gateways_sms_show_where_make_run_serves(monkeypatch, capfd):
    """`make run` sends SMS to the console gateway, "the log"; at Python's default level
    (WARNING) no line of it showed, so a worker's verification code could be read nowhere and
    self-registration could not be finished on a demo."""
    import logging

    from dispatch.notify import gateway

    log = logging.getLogger("dispatch.sms")
    monkeypatch.setattr(log, "level", logging.NOTSET)
    monkeypatch.setattr(log, "handlers", [])
    sms = gateway.OutgoingSms(7, "+8613800138000", "【临汾人社】验证码 482913，5分钟内有效。")
    gateway.show_console_sms({"SMS_BACKEND": "twilio"})  # another gateway: its log left alone
    gateway.ConsoleGateway().send(sms)
    assert "482913" not in capfd.readouterr().err
    gateway.show_console_sms({"SMS_BACKEND": "console"})
    gateway.ConsoleGateway().send(sms)
    assert "SMS #7 to +8613800138000: 【临汾人社】验证码 482913" in capfd.readouterr().err
