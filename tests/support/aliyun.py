"""Alibaba Cloud SMS in tests: the Dysmsapi stand-in on loopback (tests/support/aliyun_standin.py)
and apps on the demo data whose gateway is the real SDK pointed at it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from dispatch import create_app
from dispatch.extensions import db
from dispatch.services.notices import templates
from tests.support.aliyun_standin import AliyunStandIn
from tests.support.apps import base_config
from tests.support.sms import NOW

# A template code for every kind of notice, as if each had been approved.
TEMPLATES = {kind: f"SMS_4{n:05d}" for n, kind in enumerate(templates.TEMPLATES)}


def aliyun_config(standin: AliyunStandIn, **overrides: object) -> dict[str, object]:
    return {
        "SMS_BACKEND": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": standin.access_key_id,
        "ALIYUN_ACCESS_KEY_SECRET": standin.access_key_secret,
        "ALIYUN_SMS_ENDPOINT": standin.url,
        "ALIYUN_SMS_SIGN_NAME": "临汾人社",
        "ALIYUN_SMS_TEMPLATES": dict(TEMPLATES),
        "ALIYUN_READ_TIMEOUT_S": 0.5,
        **overrides,
    }


@pytest.fixture
def aliyun() -> Iterator[AliyunStandIn]:
    with AliyunStandIn() as standin:
        standin.now = lambda: NOW
        yield standin


@pytest.fixture
def aliyun_app_factory(tmp_path: Path, demo_template: Path, aliyun: AliyunStandIn):
    """Apps on one copy of the demo data, each with its own settings (a restart, in effect)."""
    target = tmp_path / "demo.db"
    shutil.copy(demo_template, target)
    made: list[Flask] = []

    def build(**overrides: object) -> Flask:
        config = {**base_config(tmp_path, f"sqlite:///{target}"), **aliyun_config(aliyun)}
        app = create_app({**config, **overrides}, instance_path=str(tmp_path))
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def aliyun_app(aliyun_app_factory) -> Flask:
    """The demo data, sending through the real Alibaba Cloud SDK to the stand-in."""
    return aliyun_app_factory()
