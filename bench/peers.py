"""The peers the planner is measured against (bench/planner.py): VROOM and PyVRP on the same
problems, their routes turned into our trips so that `check` judges them by the same rules."""

from __future__ import annotations

from collections import Counter
from typing import Any


def _plan_dict(trips: list[Any], bound: float, seconds: float) -> dict[str, Any]:
    """A plan dict for peer trips, carrying our bound so that `check` tests it against them."""
    from dispatch.planner.problem.trips import trip_to_dict

    cost = sum(t.cost for t in trips)
    return {
        "format": "dispatch-plan/1",
        "trips": [trip_to_dict(t) for t in trips],
        "unassigned": [],
        "summary": {
            "cost": cost,
            "buses": len(trips),
            "lower_bound_cost": bound,
            "gap": (cost - bound) / cost if cost else 0.0,
            "seconds": seconds,
        },
    }


def _peer_trip(
    world: Any, day: Any, coach: str, steps: list[tuple[str, str, bool]], tid: str
) -> Any:
    """Our trip form of a peer's route, steps (site, group, is_pickup) in its order.

    When every pickup comes before every drop-off, sites are merged at their first visit (never
    longer by the triangle inequality, and the form rule 4 asks for); otherwise the raw order is
    kept so that `check` reports the broken rule instead of us hiding it.
    """
    from dispatch.planner.cost import bus_cost
    from dispatch.planner.model import Stop, Trip
    from dispatch.planner.plan.seats import assign_seats

    kinds = [p for _, _, p in steps]
    ordered = kinds == sorted(kinds, reverse=True)
    stops: list[tuple[str, list[str], list[str]]] = []
    for site, gid, is_pickup in steps:
        at = next((s for s in stops if s[0] == site), None) if ordered else None
        if at is None and stops and stops[-1][0] == site:
            at = stops[-1]
        if at is None:
            at = (site, [], [])
            stops.append(at)
        (at[1] if is_pickup else at[2]).append(gid)
    trip_stops = tuple(Stop(s, tuple(p), tuple(d)) for s, p, d in stops)
    ctype = world.problem.coach_types[coach]
    groups = [world.groups[g] for s in trip_stops for g in s.dropoff]
    by_drop = [[world.groups[g] for g in s.dropoff] for s in trip_stops if s.dropoff]
    seats = assign_seats(by_drop, ctype.passenger_seats, {}) if ordered else None
    if seats is None:  # more people than seats over the trip: number them on, `check` will tell
        members = [m for g in groups for m in g.members]
        seats = {m: i + 1 for i, m in enumerate(members)}
    km = world.dist.path_km([s.site for s in trip_stops])
    return Trip(tid, day, coach, trip_stops, seats, km, bus_cost(ctype, km))


def _fleet(world: Any, prob: Any) -> list[tuple[str, int]]:
    """Enough vehicles of every type for a one-way plan: (coach id, seats) each."""
    seats = sum(g.size for g in prob.groups.values())
    return [
        (c.id, c.passenger_seats)
        for c in world.coaches
        for _ in range(seats // c.passenger_seats + len(world.dist.ids))
    ]


def one_way_km(world: Any, prob: Any) -> float:
    """A cap on one bus's km that blocks a second pickup round and little else.

    A route that picks up again after a drop-off drives pickup → drop-off → pickup → drop-off,
    at least 2 × (shortest pickup → drop-off) + (shortest drop-off → pickup) km; the cap is 1 km
    below that. Single rounds longer than the cap (many more stops than any plan here uses) are
    the only other routes it excludes; `run_case` reports our longest trip next to it.
    """
    kind = {s: prob.sites[s].kind for s in world.dist.ids}
    picks = [s for s in world.dist.ids if kind[s] == "pickup"]
    drops = [s for s in world.dist.ids if kind[s] == "dropoff"]
    km = world.dist.km
    there = min(km[c][d] for c in picks for d in drops)
    back = min(km[d][c] for c in picks for d in drops)
    return 2 * there + back - 1.0


EXPLORATION = 5  # VROOM's highest level, its default for quality


def vroom_plan(prob: Any, seconds: float, bound: float) -> dict[str, Any] | None:
    """pyvroom with shipments, mixed fleet, fixed + per-km costs and a one-way `max_distance`.

    Vehicles start at a free depot (0 km to every site) and have no end. Stop rules are not
    expressible in VROOM, so use it on the lifted variant only. None when VROOM leaves a group out.
    """
    import time
    from datetime import timedelta as td

    import vroom

    from dispatch.planner.world.buses import World

    world = World(prob)
    ids = world.dist.ids
    idx = {s: i for i, s in enumerate(ids)}
    metres = [[int(round(world.dist.km[a][b] * 1000)) for b in ids] + [0] for a in ids]
    metres.append([0] * (len(ids) + 1))
    depot = len(ids)
    inp = vroom.Input()
    inp.set_durations_matrix("car", metres)  # unused in costs (per_hour 0) but VROOM wants one
    inp.set_distances_matrix("car", metres)
    cap = int(one_way_km(world, prob) * 1000) + 1
    fleet = _fleet(world, prob)
    kinds = {}
    vehicles = []
    for n, (cid, seats) in enumerate(fleet, start=1):
        c = prob.coach_types[cid]
        kinds[n] = cid
        vehicles.append(
            vroom.Vehicle(
                n,
                start=depot,
                capacity=vroom.Amount([seats]),
                costs=vroom.VehicleCosts(
                    fixed=int(c.fixed_cost), per_hour=0, per_km=int(c.cost_per_km)
                ),
                max_distance=cap,
            )
        )
    inp.add_vehicle(vehicles)
    gids = sorted(prob.groups)
    for n, gid in enumerate(gids):
        g = prob.groups[gid]
        inp.add_shipment(
            vroom.ShipmentStep(2 * n + 1, location=idx[g.pickup]),
            vroom.ShipmentStep(2 * n + 2, location=idx[g.dropoff]),
            amount=vroom.Amount([g.size]),
        )
    start = time.monotonic()
    sol = inp.solve(exploration_level=EXPLORATION, nb_threads=2, timeout=td(seconds=seconds))
    spent = time.monotonic() - start
    day = next(iter(prob.groups.values())).earliest
    trips, served = [], set()
    for vid, rows in sol.routes.groupby("vehicle_id", sort=True):
        steps = [
            (ids[int(loc)], gids[(int(r) - 1) // 2], t == "pickup")
            for r, t, loc in zip(rows["id"], rows["type"], rows["location_index"], strict=True)
            if t in ("pickup", "delivery")
        ]
        if steps:
            served.update(g for _, g, _ in steps)
            trips.append(_peer_trip(world, day, kinds[int(vid)], steps, f"V{int(vid)}"))
    if served != set(gids):
        return None
    return _plan_dict(trips, bound, spent)


def pyvrp_plan(prob: Any, seconds: float, bound: float, seed: int) -> dict[str, Any] | None:
    """PyVRP with one shipment per group, a vehicle type per coach type, the same free depot and
    one-way `max_distance` as VROOM; MaxRuntime(seconds). None when it leaves a group out."""
    import time

    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    from dispatch.planner.world.buses import World

    world = World(prob)
    ids = world.dist.ids
    model = Model()
    depot_at = model.add_location(x=0, y=0, name="depot")
    at = {s: model.add_location(x=0, y=0, name=s) for s in ids}
    depot = model.add_depot(depot_at)
    for a in ids:  # units of 100 m; the depot is 0 km from everywhere (free start, no end)
        model.add_edge(depot_at, at[a], 0)
        model.add_edge(at[a], depot_at, 0)
        for b in ids:
            model.add_edge(at[a], at[b], int(round(world.dist.km[a][b] * 10)))
    model.add_edge(depot_at, depot_at, 0)
    cap = int(one_way_km(world, prob) * 10)
    fleet = {cid: n for cid, n in Counter(cid for cid, _ in _fleet(world, prob)).items()}
    kinds = []
    for c in world.coaches:
        # Costs in tenths of a CNY: fixed × 10, and per 100 m exactly the per-km price. (In metres
        # and thousandths a bus cost ~1.6e7; PyVRP warned that its penalties hit their maximum
        # and ended with 54 buses at 1,000 workers.)
        kinds.append(c.id)
        model.add_vehicle_type(
            num_available=fleet[c.id],
            capacity=[c.passenger_seats],
            start_depot=depot,
            end_depot=depot,
            fixed_cost=int(round(c.fixed_cost * 10)),
            unit_distance_cost=int(round(c.cost_per_km)),
            max_distance=cap,
            name=c.id,
        )
    gids = sorted(prob.groups)
    for gid in gids:
        g = prob.groups[gid]
        model.add_shipment(at[g.pickup], at[g.dropoff], amount=[g.size], name=gid)
    start = time.monotonic()
    result = model.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    spent = time.monotonic() - start
    best = result.best
    if not best.is_complete():
        return None
    ships = model.data().shipments()
    day = next(iter(prob.groups.values())).earliest
    trips = []
    for n, route in enumerate(best.routes(), start=1):
        steps = [
            (ids[ships[a.idx].pickup.location - 1], gids[a.idx], True)
            if a.is_pickup()
            else (ids[ships[a.idx].delivery.location - 1], gids[a.idx], False)
            for a in route
            if a.is_shipment()
        ]
        if steps:
            trips.append(_peer_trip(world, day, kinds[route.vehicle_type()], steps, f"P{n}"))
    return _plan_dict(trips, bound, spent)
