"""The suite's fixtures live in tests/support/, loaded here as plugins (pytest reads
``pytest_plugins`` only in this root conftest); no test imports a conftest or a test module.

- apps: apps on a temporary database (empty, or the demo data), clients logged in
- pg: a throwaway PostgreSQL server, a database per test, ``db_url`` for both engines
- browser: real Chromium through Playwright, a live server in a thread, browser journeys
- sms: a Twilio-compatible server on loopback and apps wired to it
- aliyun: the Alibaba Cloud SMS stand-in (tests/support/aliyun_standin.py) and apps wired to it
- published: the demo plan published, copied per test
- field: the field journeys' plan, published a week ahead and notified
"""

from __future__ import annotations

import os

import pytest

# Helpers in tests/support report failed asserts like tests do (before any of them is imported).
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.apps",
    "tests.support.pg",
    "tests.support.browser",
    "tests.support.sms",
    "tests.support.aliyun",
    "tests.support.published",
    "tests.support.field",
]

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["no_proxy"] = os.environ["NO_PROXY"]
