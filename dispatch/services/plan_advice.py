"""Suggestions for a draft's near-empty buses (issue 17 §4), and applying them.

Every suggestion is a whole changed plan the planner's checker has proven (dispatch/planner/
advice.py); what it saves is the difference of the trips' costs. Applying one recomputes it from
the plan as it stands, refuses when it is no longer the one shown (``Stale``), moves the seats
with the seat service (its rules and audit hold), rebuilds the stops of buses that gain a stop,
takes the emptied bus off and lowers the plan's cost by exactly the saving shown.

Only drafts get suggestions: on a published plan each move would be a change notice to workers
who were already told their bus, so a published plan is changed seat by seat on the trip page
(or re-planned and compared first), never by a one-click regrouping.

A date change needs the worker's consent: the coordinator records it (``agree``) after the
phone call, which widens that worker's departure window by the agreed day. Until every worker a
change moves outside their window has agreed, the change is not applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from dispatch.extensions import db
from dispatch.models import CoachType, Plan, Trip, TripStop, User, Worker
from dispatch.models import trips as t
from dispatch.planner import advice as pa
from dispatch.planner.bound import prices
from dispatch.planner.model import Trip as PlannerTrip
from dispatch.planner.plan.files import price_from_dict
from dispatch.planner.world.buses import World
from dispatch.services import audit, scope, seats, topup_publish
from dispatch.services.advice_problem import Snapshot, snapshot
from dispatch.services.timing import stop_times

CHARGE_SECONDS = 2.0  # the LP's prices are read within this, on every view of the page


class AdviceError(ValueError):
    """A suggestion that cannot be applied; ``str()`` says why in the user's language."""


@dataclass(frozen=True)
class Mover:
    """A worker a suggestion moves, and where to."""

    worker: Worker
    to_bus: str
    day: date
    outside: bool  # outside the worker's window: needs their consent


@dataclass(frozen=True)
class Option:
    """One proven change for one bus, in the terms the page shows."""

    kind: str
    saving: float
    new_cost: float
    movers: list[Mover] = field(default_factory=list)
    target_buses: list[str] = field(default_factory=list)
    coach_type: CoachType | None = None
    key: str = ""  # identifies the change: applying checks it is still the same
    may_apply: bool = False
    drops: int = 0  # THIRD_DROP: drop-off stops of the bus that takes the passengers

    @property
    def waiting(self) -> list[Worker]:
        """Workers whose consent to another day is still missing."""
        return [m.worker for m in self.movers if m.outside]


@dataclass(frozen=True)
class BusAdvice:
    trip: Trip
    taken: int
    options: list[Option]
    locked: bool
    average: float  # the plan's cost per seated worker, beside this bus's own
    live: bool = False  # a published bus a top-up carries: its passengers stay where they are
    charge: float | None = None  # what the planner's LP charges its passengers' demand (duals)

    @property
    def per_rider(self) -> float:
        return self.trip.cost / self.taken if self.taken else self.trip.cost


def near_empty(trips: Iterable[Trip], occupied: dict[int, int]) -> list[Trip]:
    """The buses (of a plan, as the plan page loaded them) that passengers fill less than half."""
    return [
        trip
        for trip in trips
        if trip.cancelled_at is None
        and 2 * occupied.get(trip.id, 0) < trip.coach_type.passenger_seats
    ]


def offered(plan: Plan) -> bool:
    """Whether suggestions are offered on this plan (drafts only: see the module doc)."""
    return plan.status == t.PLAN_DRAFT


def advice(plan: Plan, user: User) -> list[BusAdvice]:
    """Each near-empty bus of the user's counties with its proven changes, cheapest first."""
    if not offered(plan):
        return []
    snap = snapshot(plan)
    world = World(snap.problem)
    frozen, live = _frozen(snap), _live(plan)
    average = (plan.cost or 0) / max(1, snap.seated)
    near = pa.under_half(snap.problem, snap.plan)
    charges = _charges(plan, snap, world, near)
    out = []
    for code in near:
        trip = snap.trips[code]
        if not all(scope.may_see(user, s.worker) for s in trip.seats):
            continue
        locked = code in frozen
        kept = locked or code in live
        changes = [] if kept else pa.changes_for(snap.problem, snap.plan, code, frozen, world, live)
        options = [_option(plan, snap, c, user) for c in changes]
        out.append(
            BusAdvice(
                trip, len(trip.seats), options, locked, average, code in live, charges.get(code)
            )
        )
    return sorted(out, key=lambda b: -(b.charge or 0) / max(1, b.taken))  # dearest first


def _charges(plan: Plan, snap: Snapshot, world: World, codes: list[str]) -> dict[str, float]:
    """What the planner's LP (column generation, its dual prices) charges the passengers of each
    bus: an estimate that ranks the dearest demand first, never a saving. The prices the planner
    kept with the plan (Plan.prices), else the LP solved again within CHARGE_SECONDS (a plan
    bounded without column generation, or made before plans kept them)."""
    if not codes:
        return {}
    trips = {t.id: t for t in snap.plan.trips}
    if plan.prices:
        by_group = _kept_charges(plan.prices, trips.values(), world)
    else:
        by_group = prices.group_charges(world, frozenset(snap.problem.groups), CHARGE_SECONDS)
    out = {}
    for code in codes:
        shares = [by_group.get(g) for g in trips[code].group_ids()]
        if shares and all(x is not None for x in shares):
            out[code] = round(sum(shares), 2)  # type: ignore[arg-type]
    return out


def _kept_charges(kept: list[dict], trips: Iterable[PlannerTrip], world: World) -> dict[str, float]:
    """Each group's charge by the prices per seat the planner kept with the plan."""
    per_seat = dict(price_from_dict(p) for p in kept)
    out = {}
    for trip in trips:
        for g in trip.group_ids():
            grp = world.groups[g]
            price = per_seat.get((trip.date, grp.pickup, grp.dropoff))
            if price is not None:
                out[g] = price * grp.size
    return out


def _frozen(snap: Snapshot) -> set[str]:
    """Buses a coordinator locked, whole or a seat of: suggestions leave them as they are."""
    return {code for code, trip in snap.trips.items() if trip.locked} | snap.locked_seats


def _live(plan: Plan) -> set[str]:
    """Codes of the published buses a top-up draft carries (services/topup_publish.py): their
    passengers were told their seats and publishing merges into the live buses, so a suggestion
    moves nobody off them, changes neither their stops nor their coach, and only adds to them."""
    return set(topup_publish.copies(plan))


def _option(plan: Plan, snap: Snapshot, change: pa.Change, user: User) -> Option:
    movers = [
        Mover(seat.worker, m.trip, m.day, m.outside and not _agreed(seat.worker, m.day))
        for m in change.moves
        for seat in snap.seats_of(m.group)
    ]
    coach = db.session.get(CoachType, change.coach_type) if change.coach_type else None
    return Option(
        kind=change.kind,
        saving=change.saving,
        new_cost=round((plan.cost or 0) - change.saving, 2),
        movers=movers,
        target_buses=list(change.touched),
        coach_type=coach,
        key=_key(change),
        drops=_drops(change),
        may_apply=_refusal(snap, change, user) is None and not any(m.outside for m in movers),
    )


def _drops(change: pa.Change) -> int:
    """Drop-off stops of the bus a third-drop change adds one to (0 for other kinds)."""
    if change.kind != pa.THIRD_DROP:
        return 0
    target = next(tr for tr in change.plan.trips if tr.id == change.touched[0])
    return sum(1 for s in target.stops if s.dropoff)


def _agreed(worker: Worker, day: date) -> bool:
    return worker.earliest_date <= day <= worker.latest_date


def _key(change: pa.Change) -> str:
    """A short fingerprint of the change: kind, bus, moves, coach type and saving."""
    moves = sorted((m.group, m.trip, m.day.isoformat()) for m in change.moves)
    raw = f"{change.kind}|{change.trip}|{moves}|{change.coach_type}|{change.saving:.2f}"
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def _refusal(snap: Snapshot, change: pa.Change, user: User) -> str | None:
    """Why the user may not apply the change: the bus and every bus whose route changes must be theirs."""
    trips = [snap.trips[change.trip]] + [
        snap.trips[code] for code in change.touched if _route_changes(snap, change, code)
    ]
    for trip in trips:
        reason = scope.bus_refusal(user, trip)
        if reason:
            return reason
    return None


def _route_changes(snap: Snapshot, change: pa.Change, code: str) -> bool:
    new = next(tr for tr in change.plan.trips if tr.id == code)
    return [s.site for s in new.stops] != [s.site_id for s in snap.trips[code].stops]


def agree(worker: Worker, day: date, user: User) -> str:
    """Record that ``worker`` agreed on the phone to travel on ``day`` (one day off their window)."""
    scope.check_worker(user, worker)
    if worker.earliest_date <= day <= worker.latest_date:
        return _("%(name)s can already travel on %(day)s.", name=worker.name, day=day.isoformat())
    if not worker.earliest_date - timedelta(1) <= day <= worker.latest_date + timedelta(1):
        raise AdviceError(_("Only a day next to the worker's departure window can be agreed here."))
    old = (worker.earliest_date.isoformat(), worker.latest_date.isoformat())
    worker.earliest_date, worker.latest_date = (
        min(worker.earliest_date, day),
        max(worker.latest_date, day),
    )
    audit.record(
        user, "worker.date_agreed", "worker", worker.id, {"day": day.isoformat(), "window": old}
    )
    db.session.flush()
    return _("%(name)s agreed to travel on %(day)s.", name=worker.name, day=day.isoformat())


def apply(plan: Plan, code: str, key: str, user: User, tz: str) -> float:
    """Apply the suggestion ``key`` for bus ``code``; returns the CNY saved."""
    if not offered(plan):
        raise AdviceError(_("Suggestions are applied to drafts only."))
    snap = snapshot(plan)
    frozen, live = _frozen(snap), _live(plan)
    if code not in snap.trips or code in frozen or code in live:
        raise AdviceError(_("This bus has changed since the page was shown: look again."))
    world = World(snap.problem)
    changes = pa.changes_for(snap.problem, snap.plan, code, frozen, world, live)
    change = next((c for c in changes if _key(c) == key), None)
    if change is None:
        raise AdviceError(_("This suggestion no longer fits the plan as it stands: look again."))
    reason = _refusal(snap, change, user)
    if reason:
        raise scope.OutOfScope(reason)
    _check_consent(snap, change)
    _carry_out(plan, snap, world, change, user, tz)
    return change.saving


def _check_consent(snap: Snapshot, change: pa.Change) -> None:
    missing = [
        seat.worker.name
        for m in change.moves
        if m.outside
        for seat in snap.seats_of(m.group)
        if not _agreed(seat.worker, m.day)
    ]
    if missing:
        raise AdviceError(
            _(
                "Not every worker has agreed to the new day yet: %(names)s.",
                names="、".join(missing),
            )
        )


def _carry_out(
    plan: Plan, snap: Snapshot, world: World, change: pa.Change, user: User, tz: str
) -> None:
    new_trips = {tr.id: tr for tr in change.plan.trips}
    for code in change.touched:
        _restop(snap.trips[code], new_trips[code], world, tz)
    if change.kind == pa.SMALLER:
        _recoach(snap, new_trips[change.trip], user)
    for m in change.moves:
        target = snap.trips[m.trip]
        for seat in list(snap.seats_of(m.group)):
            member = f"w{seat.worker_id}"
            seats.place(
                target, new_trips[m.trip].seats[member], seat.worker, user, allow_split=True
            )
    for code in change.touched:
        _price(snap.trips[code], new_trips[code])
    if change.removed:
        _remove(plan, snap.trips[change.trip])
    _lower_cost(plan, change, _widened(plan, snap, change))
    audit.record(
        user,
        "plan.suggestion",
        "plan",
        plan.id,
        {"kind": change.kind, "bus": change.trip, "saving": change.saving},
    )
    db.session.flush()


def _restop(trip: Trip, new: PlannerTrip, world: World, tz: str) -> None:
    """Rebuild a bus's stops when it gains one: new order, legs and estimated times."""
    order = [s.site for s in new.stops]
    if order == [s.site_id for s in trip.stops]:
        return
    km = world.dist.km  # the planner's own rule for each leg
    legs = [0.0] + [km[a][b] for a, b in zip(order, order[1:], strict=False)]
    kinds = [world.problem.sites[site].kind for site in order]
    times = stop_times(trip.departure_at.astimezone(ZoneInfo(tz)), legs, kinds)
    for stop in list(trip.stops):
        trip.stops.remove(stop)
    db.session.flush()
    for seq, (site, kind, leg, eta) in enumerate(zip(order, kinds, legs, times, strict=True)):
        trip.stops.append(TripStop(seq=seq, site_id=site, kind=kind, leg_km=round(leg, 1), eta=eta))
    db.session.flush()


def _recoach(snap: Snapshot, new: PlannerTrip, user: User) -> None:
    """A smaller coach type: seats beyond its numbers move first (freed, then placed)."""
    trip = snap.trips[new.id]
    moving = [s for s in trip.seats if new.seats[f"w{s.worker_id}"] != s.seat_no]
    workers = [(s.worker, new.seats[f"w{s.worker_id}"]) for s in moving]
    for seat in moving:
        seats.free(trip, seat.seat_no, user)
    for worker, seat_no in workers:
        seats.place(trip, seat_no, worker, user)
    trip.coach_type = db.session.get(CoachType, new.coach_type)
    _price(trip, new)


def _price(trip: Trip, new: PlannerTrip) -> None:
    trip.km, trip.cost = new.km, new.cost
    db.session.flush()


def _remove(plan: Plan, trip: Trip) -> None:
    db.session.expire(trip, ["seats"])
    if trip.seats:  # the seat service refused a move half-way: nothing is half done
        raise AdviceError(
            _("Bus %(bus)s still has passengers: nothing was changed.", bus=trip.code)
        )
    plan.trips.remove(trip)  # delete-orphan: the bus and its stops go
    db.session.flush()


def _widened(plan: Plan, snap: Snapshot, change: pa.Change) -> bool:
    """Whether a worker the change moves agreed to a day outside the window the plan was made
    with (the bound was proven for the narrower window)."""
    planned = {
        m: (g["earliest"], g["latest"])
        for g in (plan.problem or {}).get("groups", [])
        for m in g.get("members", [])
    }
    for move in change.moves:
        for seat in snap.seats_of(move.group):
            window = planned.get(f"w{seat.worker_id}")
            worker = seat.worker
            if window and (
                worker.earliest_date.isoformat() < window[0]
                or worker.latest_date.isoformat() > window[1]
            ):
                return True
    return False


def _lower_cost(plan: Plan, change: pa.Change, widened: bool) -> None:
    """The plan's cost falls by the saving; the bound stays when the change kept the problem."""
    plan.cost = round((plan.cost or 0) - change.saving, 2)
    bound = plan.lower_bound_cost
    if bound is not None and (widened or change.kind == pa.THIRD_DROP or bound > plan.cost):
        # A window widened or a rule relaxed: the bound was proven for the problem before it.
        bound = None
    plan.lower_bound_cost = bound
    plan.gap = (plan.cost - bound) / plan.cost if bound is not None and plan.cost else None
    if change.kind == pa.THIRD_DROP:
        target = change.touched[0]
        exceptions = {**(plan.scope or {}).get("rule_exceptions", {}), target: "third_drop"}
        plan.scope = {**(plan.scope or {}), "rule_exceptions": exceptions}
