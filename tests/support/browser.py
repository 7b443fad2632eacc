"""Real Chromium through Playwright against a live server in a thread; browser journeys log in
through the login page, keep screenshots as CI artefacts, and fail when their page logged an
error (a CSP refusal, a script error, a failed request).

Screenshots go to ``$DISPATCH_ARTIFACTS`` (default ``test-artifacts/``) under ``screenshots/<test>/``;
``.ci/run`` prints that folder.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

REQUIRE_BROWSER = os.environ.get("DISPATCH_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("DISPATCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("DISPATCH_ARTIFACTS", "test-artifacts")).resolve()
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(
                f"Chromium is required (DISPATCH_REQUIRE_BROWSER=1) but {CHROMIUM} is missing"
            )
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    browser = manager.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    )
    record_form_posts(browser)
    yield browser
    browser.close()
    manager.stop()


def _closed_before_sent(app: Flask) -> Callable:
    """The app with every answer read whole and closed before Werkzeug's server writes it.

    That server closes an answer only after draining the socket, and the drain raises when
    Chromium has reset the connection (a favicon request cancelled by the next navigation), so the
    static file stayed open until garbage collection, which pytest reports as an error in
    whichever test is running then (seen once in CI). gunicorn closes answers either way.
    """

    def serve(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return serve


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, _closed_before_sent(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(demo_app: Flask) -> Iterator[LiveServer]:
    """The demo app served in a thread, with a planning worker as under `make run`."""
    from tests.support.apps import start_planning_worker

    worker = start_planning_worker(demo_app)
    server = LiveServer(demo_app)
    yield server
    server.stop()
    worker.stop()


@pytest.fixture
def page(chromium, live_server: LiveServer):
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot_dir(node_name: str) -> Path:
    safe = re.sub(r"[^\w.-]+", "_", node_name)[:120]
    return ARTIFACTS / "screenshots" / safe


@pytest.fixture
def shot(request) -> Callable:
    """``shot(page, "published")`` saves a numbered full-page screenshot of this test."""
    folder = screenshot_dir(request.node.name)
    counter = iter(range(1, 1000))

    def take(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        label = re.sub(r"[^\w.-]+", "_", name)
        path = folder / f"{next(counter):02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page, username: str, password: str) -> None:
    """Log in as a person does: the login form, then the dashboard."""
    page.goto("/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.locator('button[type="submit"]').click()
    page.wait_for_url(lambda url: "/login" not in url)


class ConsoleWatch:
    """Console errors and failed page loads seen by one browser context."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def allow(self, pattern: str) -> None:
        """An error this journey provokes on purpose (an offline retry, a refused request)."""
        self.allowed.append(pattern)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(re.search(p, e) for p in self.allowed)]


@pytest.fixture
def watched_pages() -> Iterator[Callable]:
    """``watched_pages(page, owner)``: a page a test opened in a context or browser of its own
    (``owner``), returned watched; at the end every owner is closed, and the test fails if any
    of its pages logged an error (those a test allows aside)."""
    opened = []

    def watch(page, owner):
        page.set_default_timeout(15_000)
        page.console_watch = ConsoleWatch()
        page.console_watch.attach(page)
        opened.append((owner, page.console_watch))
        return page

    yield watch
    errors = [e for _, watch in opened for e in watch.unexpected()]
    for owner, _ in opened:
        owner.close()
    assert not errors, f"the page logged errors: {errors}"


@pytest.fixture
def journey(chromium, live_server) -> Iterator:
    """A desktop page (zh-CN) whose console must stay free of errors for the whole test."""
    yield from _watched_page(chromium, live_server.url, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone_journey(chromium, live_server) -> Iterator:
    """A 390×844 phone page (zh-CN, touch) whose console must stay free of errors."""
    yield from _watched_page(
        chromium, live_server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )


def _watched_page(chromium, base_url: str, **options) -> Iterator:
    context = chromium.new_context(locale="zh-CN", base_url=base_url, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = ConsoleWatch()
    watch.attach(page)
    page.console_watch = watch
    yield page
    context.close()
    assert not watch.unexpected(), f"the page logged errors: {watch.unexpected()}"


# --- Every form submitted at least once --------------------------------------------------
# Each browser context records the POSTs its pages send; when the whole suite ran with the
# browser required, a page endpoint that takes a POST and was never posted by a browser fails
# the run. That is how the registration form stayed broken: no person ever submitted it.

POSTED: set[str] = set()
NOT_PAGES = ("api.", "webhooks.", "static")


def record_form_posts(browser) -> None:
    """Wrap ``browser.new_context`` so that every context records the paths its pages POST to."""
    original = browser.new_context

    def new_context(*args, **kwargs):
        context = original(*args, **kwargs)
        context.on("request", _record)
        return context

    browser.new_context = new_context


def _record(request) -> None:
    if request.method == "POST":
        POSTED.add(request.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0])


def unposted_endpoints() -> list[str]:
    """Page endpoints that take a POST and that no browser test posted to."""
    from dispatch import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    adapter = app.url_map.bind("localhost")
    hit = set()
    for path in POSTED:
        try:
            hit.add(adapter.match("/" + path, method="POST")[0])
        except Exception:  # noqa: BLE001 - a path of another app or a 405: not a page form
            continue
    wanted = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.endpoint.startswith(NOT_PAGES)
    }
    return sorted(wanted - hit)


def pytest_sessionfinish(session, exitstatus) -> None:
    whole = not session.config.args or session.config.args == ["tests"]
    if os.environ.get("DISPATCH_REQUIRE_BROWSER") != "1" or not whole or not POSTED:
        return
    missing = unposted_endpoints()
    if missing:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            "Forms no browser test submitted: " + ", ".join(missing), red=True
        )
        session.exitstatus = 1
