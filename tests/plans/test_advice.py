"""Suggestions for near-empty buses (issue 17 §4): each kind, applied, saves exactly what it said,
and the planner's checker proves the changed plan; a date change waits for every worker's
consent; a coordinator sees and applies suggestions for their own counties only."""

from __future__ import annotations

import itertools
from datetime import date, time

import pytest
from flask_babel import refresh
from sqlalchemy import select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import County, Plan, SeatAssignment, Site, User
from dispatch.planner import advice as pa
from dispatch.planner import tuning
from dispatch.planner.cost import trip_km_and_cost
from dispatch.services import plan_advice, planning, publishing, scope
from dispatch.services.accounts import create_user
from dispatch.services.advice_problem import snapshot
from dispatch.services.reference import load_reference
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD, login, make_app
from tests.support.drafts import add_bus, add_worker, copy_as_draft, hand_draft

DAY, NEXT = date(2026, 3, 1), date(2026, 3, 2)
SCOPE = planning.Scope(DAY, NEXT)
TZ = "Asia/Shanghai"
NAMES = itertools.count(1)


def _county_app(tmp_path, uri: str | None = None):
    app = make_app(tmp_path, uri)
    with app.app_context():
        load_reference()
        create_user("admin", "admin", ADMIN_PASSWORD)
        create_user("hong", "coordinator", COORD_PASSWORD, ["hongtong"])
        create_user("yao", "coordinator", COORD_PASSWORD, ["yaodu"])
        db.session.commit()
        yield app
        db.session.rollback()
        db.engine.dispose()


@pytest.fixture
def county_app(tmp_path):
    yield from _county_app(tmp_path)


@pytest.fixture
def pg_county_app(tmp_path, pg_url):
    yield from _county_app(tmp_path, pg_url)


def _user(name: str) -> User:
    return db.session.scalar(select(User).filter_by(username=name))


def _workers(n: int, dropoff: str = "js-wuxi", county: str = "hongtong", day: date = DAY):
    return [add_worker(f"工人{next(NAMES)}号", county, dropoff, day) for _ in range(n)]


def _options(plan: Plan, code: str, user: str = "admin") -> list[plan_advice.Option]:
    found = {b.trip.code: b for b in plan_advice.advice(plan, _user(user))}
    return found[code].options


def _proven(plan: Plan) -> list[str]:
    """The checker's verdict on the stored plan as it stands, and its cost adds up."""
    snap = snapshot(plan)
    assert snap.plan.summary.cost == pytest.approx(plan.cost, abs=0.02)
    return planner.check(snap.problem, snap.plan)


def _apply(plan: Plan, code: str, option: plan_advice.Option, user: str = "admin") -> float:
    before = plan.cost
    saved = plan_advice.apply(plan, code, option.key, _user(user), TZ)
    db.session.commit()
    assert saved == option.saving
    assert plan.cost == pytest.approx(before - saved, abs=0.01)
    assert option.new_cost == pytest.approx(plan.cost, abs=0.01)
    return saved


def test_a_small_bus_moved_onto_a_bus_with_room_saves_its_whole_cost(county_app):
    full, few = _workers(20), _workers(3)
    plan = hand_draft(SCOPE, [(DAY, "c53", full), (DAY, "c53", few)])
    t2_cost = next(t.cost for t in plan.trips if t.code == "T2")
    best = _options(plan, "T2")[0]
    assert best.kind == pa.MOVE and best.saving == pytest.approx(t2_cost, abs=0.01)
    assert {m.worker.id for m in best.movers} == {w.id for w in few}
    assert {m.to_bus for m in best.movers} == {"T1"} and best.may_apply
    _apply(plan, "T2", best)
    assert [t.code for t in plan.trips] == ["T1"]
    assert len(plan.trips[0].seats) == 23
    assert plan.lower_bound_cost is not None and plan.gap == pytest.approx(
        (plan.cost - plan.lower_bound_cost) / plan.cost
    )
    assert _proven(plan) == []


def test_a_smaller_coach_saves_the_difference_in_price(county_app):
    plan = hand_draft(SCOPE, [(DAY, "c53", _workers(10))])
    (option,) = _options(plan, "T1")
    assert option.kind == pa.SMALLER and option.coach_type.id == "c33"
    assert option.saving == pytest.approx(12_500 - 9_000, abs=0.01)
    _apply(plan, "T1", option)
    trip = plan.trips[0]
    assert trip.coach_type_id == "c33" and max(s.seat_no for s in trip.seats) <= 31
    assert _proven(plan) == []


def test_a_third_drop_off_is_an_exception_for_that_bus_only(county_app):
    big = _workers(10, "js-wuxi") + _workers(10, "js-kunshan")
    few = _workers(3, "js-changzhou")
    plan = hand_draft(SCOPE, [(DAY, "c53", big), (DAY, "c53", few)])
    options = _options(plan, "T2")
    assert [o.kind for o in options] == [pa.THIRD_DROP, pa.SMALLER]  # no move within the rules
    best = options[0]
    assert best.target_buses == ["T1"] and best.saving > options[1].saving
    _apply(plan, "T2", best)
    trip = plan.trips[0]
    assert [s.kind for s in trip.stops].count("dropoff") == 3
    assert plan.scope["rule_exceptions"] == {"T1": "third_drop"}
    assert plan.lower_bound_cost is None  # proven for the rules before the exception
    faults = _proven(plan)
    assert faults == ["rule 4: trip T1 has 3 drop-off stops (max 2)"]


def test_a_date_change_waits_until_every_worker_agreed(county_app):
    full = _workers(20, day=DAY)
    late = _workers(3, day=NEXT)  # their window is the next day only
    plan = hand_draft(SCOPE, [(DAY, "c53", full), (NEXT, "c53", late)])
    best = _options(plan, "T2")[0]
    assert best.kind == pa.CONSENT and {w.id for w in best.waiting} == {w.id for w in late}
    assert all(m.day == DAY for m in best.movers)
    coordinator = _user("admin")
    with pytest.raises(plan_advice.AdviceError, match=late[0].name):
        plan_advice.apply(plan, "T2", best.key, coordinator, TZ)
    for worker in late[:2]:
        plan_advice.agree(worker, DAY, coordinator)
    db.session.commit()
    again = _options(plan, "T2")[0]
    assert again.key == best.key and [w.id for w in again.waiting] == [late[2].id]
    with pytest.raises(plan_advice.AdviceError, match=late[2].name) as refused:
        plan_advice.apply(plan, "T2", best.key, coordinator, TZ)
    assert late[0].name not in str(refused.value)
    assert len(plan.trips) == 2 and plan.trips[1].seats  # nothing moved
    plan_advice.agree(late[2], DAY, coordinator)
    db.session.commit()
    agreed = _options(plan, "T2")[0]
    assert agreed.kind == pa.MOVE and agreed.saving == best.saving and agreed.may_apply
    _apply(plan, "T2", agreed)
    assert all(w.earliest_date == DAY and w.latest_date == NEXT for w in late)
    assert plan.lower_bound_cost is None  # proven for their narrower windows
    assert _proven(plan) == []


def test_agreeing_is_for_a_day_next_to_the_window_only(county_app):
    (worker,) = _workers(1, day=NEXT)
    with pytest.raises(plan_advice.AdviceError):
        plan_advice.agree(worker, date(2026, 2, 27), _user("admin"))
    with pytest.raises(scope.OutOfScope):
        plan_advice.agree(worker, DAY, _user("yao"))


def test_a_coordinator_sees_and_applies_suggestions_for_their_counties_only(county_app):
    hong = _workers(20, county="hongtong")
    yao = _workers(3, county="yaodu")
    plan = hand_draft(SCOPE, [(DAY, "c53", hong), (DAY, "c53", yao)])
    seen = {u: [b.trip.code for b in plan_advice.advice(plan, _user(u))] for u in ("hong", "yao")}
    assert seen == {"hong": ["T1"], "yao": ["T2"]}
    yao_best = _options(plan, "T2", "yao")[0]
    assert yao_best.kind == pa.MOVE and not yao_best.may_apply  # T1 gains yaodu's stop: not theirs
    with pytest.raises(scope.OutOfScope):
        plan_advice.apply(plan, "T2", yao_best.key, _user("hong"), TZ)
    with pytest.raises(scope.OutOfScope):
        plan_advice.apply(plan, "T2", yao_best.key, _user("yao"), TZ)
    cost = plan.cost
    _apply(plan, "T2", yao_best, "admin")
    assert plan.cost < cost


def test_the_page_applies_a_suggestion_and_shows_the_new_cost(county_app):
    plan = hand_draft(SCOPE, [(DAY, "c53", _workers(20)), (DAY, "c53", _workers(3))])
    db.session.commit()
    best = _options(plan, "T2")[0]
    client = county_app.test_client()
    login(client, "yao", COORD_PASSWORD)
    page = client.get(f"/plans/{plan.id}/advice").get_data(as_text=True)
    assert "advice-T2" not in page  # another county's bus
    refused = client.post(
        f"/plans/{plan.id}/advice/apply", data={"bus": "T2", "key": best.key}, follow_redirects=True
    )
    assert "advice-T2" not in refused.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Plan, plan.id).trips) == 2  # nothing changed
    login(client, "hong", COORD_PASSWORD)
    assert f'value="{best.key}"' in client.get(f"/plans/{plan.id}/advice").get_data(as_text=True)
    done = client.post(
        f"/plans/{plan.id}/advice/apply", data={"bus": "T2", "key": best.key}, follow_redirects=True
    )
    db.session.expire_all()
    shown = f"{db.session.get(Plan, plan.id).cost:,.0f}"
    assert shown in done.get_data(as_text=True)


def test_a_published_plan_gets_no_suggestions(county_app):
    plan = hand_draft(SCOPE, [(DAY, "c53", _workers(3))])
    publishing.publish(plan, None, settings=county_app.config)
    db.session.commit()
    assert plan_advice.advice(plan, _user("admin")) == []
    with pytest.raises(plan_advice.AdviceError):
        plan_advice.apply(plan, "T1", "whatever", _user("admin"), TZ)


def test_the_pages_read_in_both_languages(county_app):
    plan = hand_draft(SCOPE, [(DAY, "c53", _workers(20)), (DAY, "c53", _workers(3))])
    db.session.commit()
    client = county_app.test_client()
    login(client, "hong", COORD_PASSWORD)
    zh = client.get(f"/plans/{plan.id}/advice").get_data(as_text=True)
    assert "把车上乘客调到其他车辆" in zh and "可节省" in zh and "Saves" not in zh
    shown = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "任何方案的费用都不会低于" in shown and "缩小差距的办法" in shown
    refresh()  # the requests share this test's app context, where the locale is kept
    english = {"Accept-Language": "en"}
    en = client.get(f"/plans/{plan.id}/advice", headers=english).get_data(as_text=True)
    assert "Move its passengers to other buses" in en and "可节省" not in en
    refresh()
    shown = client.get(f"/plans/{plan.id}", headers=english).get_data(as_text=True)
    assert "no plan can cost less than" in shown and "What would close the gap" in shown


@pytest.mark.postgres
def test_a_third_drop_off_applies_on_postgresql(pg_county_app):
    big = _workers(10, "js-wuxi") + _workers(10, "js-kunshan")
    plan = hand_draft(SCOPE, [(DAY, "c53", big), (DAY, "c53", _workers(3, "js-changzhou"))])
    db.session.commit()
    best = _options(plan, "T2")[0]
    assert best.kind == pa.THIRD_DROP
    _apply(plan, "T2", best)
    assert [t.code for t in plan.trips] == ["T1"] and len(plan.trips[0].seats) == 23
    assert _proven(plan) == ["rule 4: trip T1 has 3 drop-off stops (max 2)"]


def test_a_top_up_moves_nobody_off_a_published_bus_and_adds_no_stop_to_it(county_app):
    seated = _workers(10)
    published = hand_draft(SCOPE, [(DAY, "c53", seated)])
    publishing.publish(published, None, settings=county_app.config)
    draft = copy_as_draft(published)
    late, elsewhere = _workers(3), _workers(2, "js-changzhou")
    add_bus(draft, draft.trips[0], "T2", late)
    db.session.commit()
    found = {b.trip.code: b for b in plan_advice.advice(draft, _user("admin"))}
    assert found["T1"].live and found["T1"].options == []  # its passengers were told their seats
    best = found["T2"].options[0]
    assert best.kind == pa.MOVE and {m.to_bus for m in best.movers} == {"T1"}
    assert best.saving == pytest.approx(draft.trips[1].cost, abs=0.01)
    _apply(draft, "T2", best)
    assert [t.code for t in draft.trips] == ["T1"] and len(draft.trips[0].seats) == 13
    # Changzhou is not a stop of the published bus: no suggestion adds it, not even a third one.
    add_bus(draft, draft.trips[0], "T3", [])
    t3 = draft.trips[-1]
    t3.stops[-1].site = db.session.get(Site, "js-changzhou")
    db.session.flush()
    path = [(stop.site.lat, stop.site.lon) for stop in t3.stops]
    t3.km, t3.cost = trip_km_and_cost(9_000, 3.0, path)  # a 33-seat coach: nothing smaller
    t3.coach_type_id = "c33"
    for seat_no, worker in enumerate(elsewhere, start=1):
        t3.seats.append(SeatAssignment(plan_id=draft.id, seat_no=seat_no, worker_id=worker.id))
    db.session.commit()
    assert _options(draft, "T3") == []


def test_the_charges_come_from_the_prices_the_planner_kept_without_solving_again(
    county_app, monkeypatch
):
    """A plan the planner bounded by column generation keeps its LP's prices (Plan.prices): the
    page reads them, on a day of any size, instead of solving the LP again within 2 s on every
    view (which a day of 1,000 workers never finished, so its buses showed no charge)."""
    full, few, far = _workers(20), _workers(2), _workers(3, "js-nanjing-jiangning")
    plan = hand_draft(SCOPE, [(DAY, "c53", full + few), (DAY, "c53", far)])
    plan.prices = [
        {"date": DAY.isoformat(), "pickup": "hongtong", "dropoff": "js-wuxi", "per_seat": 250.0},
        {
            "date": DAY.isoformat(),
            "pickup": "hongtong",
            "dropoff": "js-nanjing-jiangning",
            "per_seat": 1200.5,
        },
    ]
    db.session.commit()

    def solving_again(*args, **kwargs):
        raise AssertionError("the LP was solved again although the plan kept its prices")

    monkeypatch.setattr(plan_advice.prices, "group_charges", solving_again)
    found = {b.trip.code: b for b in plan_advice.advice(plan, _user("admin"))}
    assert found["T1"].charge == pytest.approx(22 * 250.0)  # 22 of 51 seats: under half too
    assert found["T2"].charge == pytest.approx(3 * 1200.5)
    assert [b.trip.code for b in plan_advice.advice(plan, _user("admin"))] == ["T2", "T1"]
    # a bus with a demand the planner kept no price for shows no charge rather than a guess
    plan.prices = plan.prices[1:]
    db.session.commit()
    found = {b.trip.code: b for b in plan_advice.advice(plan, _user("admin"))}
    assert found["T1"].charge is None
    assert found["T2"].charge == pytest.approx(3 * 1200.5)
    monkeypatch.undo()
    plan.prices = None  # a plan without kept prices: the LP is solved on the page
    db.session.commit()
    found = {b.trip.code: b for b in plan_advice.advice(plan, _user("admin"))}
    assert found["T2"].charge and found["T2"].charge > 0


def test_a_planned_day_keeps_its_lps_prices_and_its_page_reads_them(county_app, monkeypatch):
    """The planning job stores what the planner's LP charged (a day of many counties and
    destinations, bounded by column generation), and the suggestions page charges from them."""
    counties = db.session.scalars(select(County.id).order_by(County.id)).all()[:10]
    drops = db.session.scalars(
        select(Site.id).where(Site.kind == "dropoff").order_by(Site.id)
    ).all()[:8]
    for county, dropoff in itertools.product(counties, drops):
        _workers(2, dropoff, county)
    db.session.commit()
    # column generation's LP converges in well under a second here; without the fewest-bus MIP
    # before it (up to half its time), it has 9 s to, on a machine busy with the whole suite
    monkeypatch.setattr(tuning, "FEWEST_PATTERN_LIMIT", 0)
    plan = planning.start_plan(planning.Scope(DAY, DAY), None, None, time_limit_s=12)
    planning.store_result(plan, planning.solve_plan(plan, 12), time(8, 0), TZ)
    db.session.commit()
    kept = {(p["pickup"], p["dropoff"]) for p in plan.prices or []}
    assert kept == set(itertools.product(counties, drops))
    assert all(p["date"] == DAY.isoformat() and p["per_seat"] > 0 for p in plan.prices)
    monkeypatch.setattr(plan_advice.prices, "group_charges", None)  # not called: kept prices
    advised = plan_advice.advice(plan, _user("admin"))
    assert advised and all(b.charge and b.charge > 0 for b in advised)
