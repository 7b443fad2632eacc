"""Every desk page fits a 1280-px screen, in Chinese and in English: no table scrolls sideways
and the page itself does not. At that width the boarding table's last column (the manifest
link) was cut off, the dashboard's tables hid their last two columns in English, and the plan
page's stops never wrapped (a `td.wrap` lost to `table.grid td`'s nowrap). In English, lists
are joined with commas (they kept 、) and coach types are named by their seats (45-seat
coach, where the pages showed the bureau's Chinese name)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from dispatch.extensions import db
from dispatch.models import Trip
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD
from tests.support.browser import log_in
from tests.support.published import busiest_trip
from tests.support.seats import add_user

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 900}


def _pages(app: Flask) -> list[str]:
    trip_id = busiest_trip(app)
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        day, plan_id = trip.date.isoformat(), trip.plan_id
    return [
        "/",
        "/workers/",
        "/workers/new",
        "/workers/import",
        "/workers/audit",
        "/registrations/",
        "/plans/",
        f"/plans/{plan_id}",
        f"/trips/{trip_id}",
        f"/trips/{trip_id}/manifest",
        f"/boarding?date={day}",
        f"/welfare?date={day}",
        "/messages/",
        "/replies/",
        "/admin/users/",
        "/admin/fleet/",
        "/admin/fleet/operators/",
        "/admin/fleet/drivers/",
        "/admin/fleet/coach-types/",
        "/admin/fleet/employers/",
        "/admin/fleet/sites/",
    ]


def _overflow(page) -> list[str]:
    """What scrolls sideways on the page: the page itself, or a table's frame."""
    out = page.evaluate(
        """() => {
        const wide = [];
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth) wide.push("page " + root.scrollWidth);
        document.querySelectorAll(".table-wrap").forEach((el, i) => {
            if (el.scrollWidth > el.clientWidth) {
                const t = el.querySelector("table");
                wide.push(`table ${(t && t.id) || i}: ${el.scrollWidth} > ${el.clientWidth}`);
            }
        });
        return wide;
    }"""
    )
    return list(out)


def test_desk_pages_fit_1280_px_in_both_languages(
    chromium, published_server, published_app, shot
) -> None:
    paths = _pages(published_app)
    # a coordinator of two counties: the users page lists them
    add_user(published_app, "two", "coordinator", COORD_PASSWORD, ["hongtong", "yaodu"])
    context = chromium.new_context(locale="zh-CN", base_url=published_server.url, viewport=WIDE)
    page = context.new_page()
    log_in(page, "admin", ADMIN_PASSWORD)
    seen: dict[str, list[str]] = {}
    coach_pages = [p for p in paths if p.startswith(("/plans/", "/trips/")) and p != "/plans/"]
    coach_words: dict[str, tuple[bool, bool]] = {}
    for language in ("中文", "English"):
        if language == "English":
            with page.expect_navigation():
                page.get_by_role("button", name="English", exact=True).click()
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.ok, path
            assert page.locator("html").get_attribute("lang") == (
                "en" if language == "English" else "zh-CN"
            )
            wide = _overflow(page)
            if wide:
                seen[f"{language} {path}"] = wide
            # in English, lists joined with commas, not 、
            if language == "English" and "、" in page.locator("body").inner_text():
                seen[f"English {path}"] = ["、 between the items of a list"]
            if language == "English" and path in coach_pages:  # coach types in English too
                text = page.locator("body").inner_text()
                coach_words[path] = (bool(re.search(r"\d+座", text)), "-seat coach" in text)
        shot(page, f"last page in {language}")
    context.close()
    assert seen == {}
    assert coach_words == {p: (False, True) for p in coach_pages}  # "45-seat coach", not 45座…
