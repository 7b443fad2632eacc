"""Drivers' manifest links: signed, opening until the day after the trip, rotated to revoke, and sent
by SMS to the drivers on a published bus only from a public https address."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import time_machine
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import (
    AuditEvent,
    Coach,
    OutboundMessage,
    Trip,
)
from dispatch.services import driver_links
from dispatch.services.notices import texts
from dispatch.services.notices.journeys import NoticeSettings, driver_drafts
from tests.support.apps import login
from tests.support.published import (
    BEFORE_DEPARTURE,
    busiest_trip,
    driver_token,
)

PUBLIC = "https://dispatch.example.cn"  # driver links go by SMS only from a public https address


def _fitting_coach(trip: Trip) -> Coach:
    """A coach of the type the bus was planned with (its usual drivers come with it)."""
    return db.session.scalars(
        select(Coach).where(Coach.coach_type_id == trip.coach_type_id)
    ).first()


def test_a_driver_link_opens_until_the_day_after_the_trip_and_never_when_tampered(published_app):
    trip_id = busiest_trip(published_app)
    token = driver_token(published_app, trip_id)
    client = published_app.test_client()
    with published_app.app_context():
        trip_date = db.session.get(Trip, trip_id).date
    last_minute = datetime.combine(
        trip_date + timedelta(days=1), time(15, 59), tzinfo=UTC
    )  # 23:59 local
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        page = client.get(f"/m/{token}")
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "乘车名单" in page.text
        # Tamper with the signature's first character: its last one carries padding bits
        # in base64, so changing it (A → B) can leave the decoded signature, and the link, valid.
        payload, signature = token.rsplit(".", 1)
        forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        for bad in (forged, payload, "x" * 40):
            assert client.get(f"/m/{bad}").status_code == 404
        other = driver_links.URLSafeSerializer("another-secret", salt=driver_links.SALT)
        assert client.get(f"/m/{other.dumps([trip_id, 'guess'])}").status_code == 404
    with time_machine.travel(last_minute, tick=False):
        assert client.get(f"/m/{token}").status_code == 200
    with time_machine.travel(
        last_minute.replace(minute=59, hour=16), tick=False
    ):  # 00:59 two days on
        assert client.get(f"/m/{token}").status_code == 410


def test_a_link_is_short_and_one_written_in_the_earlier_form_still_opens(published_app):
    trip_id = busiest_trip(published_app)
    token = driver_token(published_app, trip_id)
    client = published_app.test_client()
    with published_app.app_context():
        key = db.session.get(Trip, trip_id).manifest_key
    # trip, key and 16 characters of signature (36 in all for a six-digit trip and a key of
    # new_key's 12): the driver's SMS keeps its plate and first stop beside it
    assert token.startswith(f"{trip_id}.{key}.") and len(token) == len(f"{trip_id}.{key}.") + 16
    earlier = driver_links.URLSafeSerializer(published_app.secret_key, salt=driver_links.SALT)
    number, _, signature = token.split(".")
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        assert client.get(f"/m/{earlier.dumps([trip_id, key])}").status_code == 200
        assert client.get(f"/m/{earlier.dumps([trip_id, 'guess'])}").status_code == 404
        for bad in (
            f"{number}.guess.{signature}",  # another key under the same signature
            f"{int(number) + 1}.{key}.{signature}",  # another trip
            f"{number}.{key}.{signature[:-1]}",  # a signature cut short
            f"-{number}.{key}.{signature}",
            f"{number}.{key}.{signature}.x",
        ):
            assert client.get(f"/m/{bad}").status_code == 404, bad


def test_rotating_the_link_revokes_the_old_one_and_sends_the_drivers_the_new(published_app):
    published_app.config["PUBLIC_BASE_URL"] = PUBLIC
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        coach = _fitting_coach(trip)
        trip.coach_id, trip.driver1_id, trip.driver2_id = (
            coach.id,
            coach.driver1_id,
            coach.driver2_id,
        )
        drivers = {coach.driver1_id, coach.driver2_id}
        db.session.commit()
    old = driver_token(published_app, trip_id)
    client = published_app.test_client()
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        login(client)  # inside the travel: a session signed "later" would not be accepted
        manifest = client.get(f"/trips/{trip_id}/manifest")
        assert f"/m/{old}" in manifest.text  # the coordinator can copy the driver's link
        response = client.post(f"/trips/{trip_id}/driver-link")
        assert response.status_code == 302
        new = driver_token(published_app, trip_id)
        assert new != old
        assert client.get(f"/m/{old}").status_code == 404
        assert client.get(f"/m/{new}").status_code == 200
    with published_app.app_context():
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "driver")
        ).all()
        assert {r.driver_id for r in rows} == drivers
        assert all(f"/m/{new} " in r.body and r.version == 1 for r in rows)
        assert (
            db.session.scalar(select(AuditEvent).filter_by(action="trip.driver_link_rotated"))
            is not None
        )
    with time_machine.travel(
        BEFORE_DEPARTURE, tick=False
    ):  # rotating again withdraws the unsent notices
        client.post(f"/trips/{trip_id}/driver-link")
    with published_app.app_context():
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "driver")
        ).all()
        assert (
            sorted((r.version, r.status) for r in rows)
            == [(1, "cancelled")] * 2 + [(2, "pending")] * 2
        )


def test_links_of_plans_not_published_do_not_open(published_app):
    trip_id = busiest_trip(published_app)
    token = driver_token(published_app, trip_id)
    with published_app.app_context():
        db.session.get(Trip, trip_id).plan.status = "superseded"
        db.session.commit()
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        assert published_app.test_client().get(f"/m/{token}").status_code == 404


def test_the_cli_prints_the_full_address_and_can_rotate(published_app):
    trip_id = busiest_trip(published_app)
    published_app.config["PUBLIC_BASE_URL"] = "https://dispatch.example.cn/"
    runner = published_app.test_cli_runner()
    first = runner.invoke(args=["trips", "driver-link", str(trip_id)])
    assert first.exit_code == 0, first.output
    assert (
        first.output.strip()
        == f"https://dispatch.example.cn/m/{driver_token(published_app, trip_id)}"
    )
    rotated = runner.invoke(args=["trips", "driver-link", str(trip_id), "--rotate"])
    assert rotated.exit_code == 0 and rotated.output.strip() != first.output.strip()
    assert runner.invoke(args=["trips", "driver-link", "999999"]).exit_code != 0


def test_the_driver_notice_carries_the_link_only_whole():
    link = "https://dispatch.example.cn/m/WzEyMywiYWJjZGVmZ2hpamtsIl0.abcdefghijklmnopqrstuvwxyz0"
    day = datetime(2026, 3, 1).date()
    kwargs = {
        "day": day,
        "at": time(7, 0),
        "plate": "晋L·A1234",
        "stops": ["洪洞县", "昆山市"],
        "passengers": 51,
        "phone": "0357-12333",
    }
    with_link = texts.driver("【临汾人社】", **kwargs, link=link).body
    assert f" {link} " in with_link and texts.count_segments(with_link) <= 2
    too_long = texts.driver("【临汾人社】", **kwargs, link=link + "x" * 200).body
    assert "http" not in too_long and "名单请联系调度0357-12333" in too_long


def test_a_driver_put_on_a_published_trip_is_sent_the_link_and_one_taken_off_loses_it(
    published_app,
):
    published_app.config["PUBLIC_BASE_URL"] = PUBLIC
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        coach = _fitting_coach(trip)
        version, coach_id, driver_id = trip.version, coach.id, coach.driver1_id
    client = published_app.test_client()
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):
        login(client)
        form = {"version": version, "coach_id": coach_id}
        assert client.post(f"/trips/{trip_id}/crew", data=form).status_code == 302
    with published_app.app_context():
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "driver")
        ).all()
        token = driver_links.token_for(db.session.get(Trip, trip_id), published_app.secret_key)
        assert driver_id in {r.driver_id for r in rows} and len(rows) == 2
        assert all(f"{PUBLIC}/m/{token} " in r.body and "晋" in r.body for r in rows)
        version, kept = db.session.get(Trip, trip_id).version, coach.driver2_id
    with time_machine.travel(BEFORE_DEPARTURE, tick=False):  # the first driver is taken off
        form = {"version": version, "coach_id": coach_id, "driver1_id": kept}
        assert client.post(f"/trips/{trip_id}/crew", data=form).status_code == 302
        assert client.get(f"/m/{token}").status_code == 404  # the old link no longer opens
    with published_app.app_context():
        new = driver_links.token_for(db.session.get(Trip, trip_id), published_app.secret_key)
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "driver")
        ).all()
        live = [(r.driver_id, r.version) for r in rows if r.status == "pending"]
        assert live == [(kept, 2)] and f"/m/{new} " in next(
            r.body for r in rows if r.status == "pending"
        )


def test_driver_links_go_by_sms_only_from_a_public_https_address(published_app):
    trip_id = busiest_trip(published_app)
    with published_app.app_context():
        trip = db.session.get(Trip, trip_id)
        coach = _fitting_coach(trip)
        trip.coach_id, trip.driver1_id = coach.id, coach.driver1_id
        db.session.commit()
        for base, sms_link, linked in [
            ("http://127.0.0.1:5000", True, False),
            ("https://localhost", True, False),
            ("https://dispatch.example.cn", False, False),
            (PUBLIC, True, True),
        ]:
            settings = {
                **published_app.config,
                "PUBLIC_BASE_URL": base,
                "DRIVER_SMS_LINK": sms_link,
            }
            (draft,) = driver_drafts(
                db.session.get(Trip, trip_id),
                BEFORE_DEPARTURE,
                NoticeSettings.from_config(settings),
            )
            assert ("/m/" in draft.body) == linked, base
            assert linked or "名单请联系调度" in draft.body
