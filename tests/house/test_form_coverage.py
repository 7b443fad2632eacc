"""The whole-suite check that every page form was submitted by a browser reads paths right."""

from __future__ import annotations

from tests.support import browser


def test_a_posted_path_counts_for_its_endpoint_and_others_stay_missing(monkeypatch):
    monkeypatch.setattr(browser, "POSTED", {"workers/new", "trips/12/seats/swap", "api/v1/workers"})
    missing = browser.unposted_endpoints()
    assert "workers.create" not in missing and "trips.swap" not in missing
    assert "plans.publish" in missing and "auth.login" in missing
    assert not any(e.startswith(("api.", "webhooks.")) for e in missing)
