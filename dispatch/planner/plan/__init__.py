"""Writing the plan: working buses become trips (stops in order, seats, km, cost) with fresh
ids; plans to and from their file form; and the one evaluator of the rules.

seats.py  seat numbers: a group together, pairs side by side, first off nearest the door
trips.py  to_trip (one working bus), number_trips (every bus, ids T1, T2, …)
files.py  plan_to_dict, plan_from_dict (PLANNER_FORMAT.md)
check.py  check: every violation of the nine rules

Imports dispatch.planner.model, .cost, .world and .problem. The construction, the search and
solve() import it (to_trip also tells whether a locked trip can still seat a group).
"""
