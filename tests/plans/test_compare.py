"""A draft compared with the published plan (issue 17 §3): it lists exactly the workers whose
bus, seat or departure would change, those newly seated and those who would lose their seat,
named only for the viewer's counties."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import Plan, SeatAssignment, User, Worker
from dispatch.services import plan_compare, planning, publishing
from dispatch.services.accounts import create_user
from dispatch.services.reference import load_reference
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD, login, make_app
from tests.support.drafts import add_worker, clone_trip, copy_as_draft, hand_draft

DAY = date(2026, 3, 1)
SCOPE = planning.Scope(DAY, DAY)
NAMES = itertools.count(1)


@pytest.fixture
def county_app(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        load_reference()
        create_user("admin", "admin", ADMIN_PASSWORD)
        create_user("hong", "coordinator", COORD_PASSWORD, ["hongtong"])
        db.session.commit()
        yield app
        db.session.rollback()
        db.engine.dispose()


def _user(name: str) -> User:
    return db.session.scalar(select(User).filter_by(username=name))


def _worker(county: str = "hongtong") -> Worker:
    return add_worker(f"乘客{next(NAMES)}", county, "js-wuxi", DAY)


def _seat(draft: Plan, worker: Worker) -> SeatAssignment:
    return db.session.scalar(
        select(SeatAssignment).filter_by(plan_id=draft.id, worker_id=worker.id)
    )


@pytest.fixture
def two_plans(county_app):
    """A published plan (T1: a b c d g; T2: h) and a top-up draft changed from it in known ways."""
    w = SimpleNamespace(
        **{n: _worker() for n in "abcdh"}, g=_worker("yaodu"), e=_worker(), x=_worker()
    )
    published = hand_draft(SCOPE, [(DAY, "c53", [w.a, w.b, w.c, w.d, w.g]), (DAY, "c53", [w.h])])
    publishing.publish(published, None, settings=county_app.config)
    db.session.flush()
    draft = copy_as_draft(published)
    t1, t2 = sorted(draft.trips, key=lambda t: t.code)
    _seat(draft, w.a).seat_no = 40  # a: another seat
    _seat(draft, w.g).seat_no = 41  # g (another county): another seat
    db.session.delete(_seat(draft, w.c))  # c: not in the draft, keeps the published seat
    t1.seats.append(SeatAssignment(plan_id=draft.id, seat_no=45, worker_id=w.e.id))  # e: new
    t1.seats.append(SeatAssignment(plan_id=draft.id, seat_no=46, worker_id=w.x.id))
    w.x.status = "cancelled"  # x: withdrawn since planning: publishing leaves them out
    t3 = clone_trip(draft, t1, "T3", seats=False)
    db.session.flush()
    _seat(draft, w.b).trip_id = t3.id  # b: another bus (a top-up allowed to move seated workers)
    record = draft.scope["topup"]
    draft.scope = {**draft.scope, "topup": {**record, "was_on": {f"w{w.b.id}": "T1"}}}
    t2.departure_at += timedelta(hours=1)  # h: another time
    db.session.commit()
    return published, draft, w


def _names(rows) -> set[str]:
    return {row.name for row in rows}


def test_the_comparison_lists_exactly_the_workers_who_change(two_plans):
    published, draft, w = two_plans
    result = plan_compare.compare(draft, _user("admin"))
    assert [p.id for p in result.published] == [published.id]
    assert result.topup
    assert _names(result.changed) == {w.a.name, w.b.name, w.g.name, w.h.name}
    assert _names(result.added) == {w.e.name}
    assert _names(result.dropped) == {w.x.name}  # c is not listed: c keeps the seat
    assert result.dropped[0].why.reason == publishing.WITHDRAWN
    assert result.unchanged == 1 and result.hidden == 0  # d
    assert result.days == [(DAY, 2, 3)]  # T1 and T2 now; their copies and T3 once published
    assert result.draft_cost == pytest.approx(sum(t.cost for t in draft.trips))
    assert result.difference == pytest.approx(result.draft_cost - result.published_cost)
    rows = {r.name: r for r in result.changed}
    assert (rows[w.b.name].old.bus, rows[w.b.name].new.bus) == ("T1", "T3")
    assert (rows[w.a.name].old.bus, rows[w.a.name].new.seat) == ("T1", 40)
    assert rows[w.h.name].new.departure - rows[w.h.name].old.departure == timedelta(hours=1)


def test_a_county_coordinator_sees_their_own_workers_only(two_plans):
    _, draft, w = two_plans
    result = plan_compare.compare(draft, _user("hong"))
    assert _names(result.changed) == {w.a.name, w.b.name, w.h.name}
    assert result.hidden == 1  # g, of yaodu: counted, never named


def test_a_draft_that_only_adds_buses_drops_nobody(county_app):
    seated = [_worker() for _ in range(3)]
    waiting = _worker()
    published = hand_draft(SCOPE, [(DAY, "c53", seated)])
    publishing.publish(published, None, settings=county_app.config)
    db.session.flush()
    draft = hand_draft(SCOPE, [(DAY, "c33", [waiting])])
    db.session.commit()
    result = plan_compare.compare(draft, _user("admin"))
    assert not result.topup and result.dropped == [] and result.changed == []
    assert _names(result.added) == {waiting.name}
    assert result.days == [(DAY, 1, 2)]  # the published bus runs on beside the new one
    assert result.difference == pytest.approx(draft.trips[0].cost)
    assert plan_compare.counterparts(published) == [draft]
    assert plan_compare.counterparts(draft) == [published]


def test_the_page_shows_the_changed_workers(two_plans, county_app):
    _, draft, w = two_plans
    client = county_app.test_client()
    login(client, "hong", COORD_PASSWORD)
    page = client.get(f"/plans/{draft.id}/compare").get_data(as_text=True)
    start = page.index('id="changed-workers"')
    changed = page[start : page.index("</table>", start)]
    assert all(x.name in changed for x in (w.a, w.b, w.h))
    assert w.d.name not in changed and w.g.name not in page
    assert w.x.name in page[page.index('id="dropped-workers"') :] and w.c.name not in page
    assert w.e.name in page[page.index('id="added-workers"') :]
