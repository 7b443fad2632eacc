"""The bound: a proven lower bound on the cost of every plan that serves the same groups, so the
plan's summary can say how far from optimal it is at most (rule 9 of PLANNER_FORMAT.md).

lower.py  lower_bound (per block: threshold bound, pattern bound by the covering MIP or by
          column generation), settled, and the bus-count facts the proofs use; its module doc
          states why each bound is valid
count.py  fewest_buses: the least number of buses any plan runs, by a set-covering MIP over the
          stop patterns (raises column generation's total of buses where patterns are few),
          and its cover, a skeleton the rebuild packs like a dive

Imports dispatch.planner.model, .tuning, .cost, .world and .lp. rebuild/ (the dives take their
bound on the way) and solve() import it.
"""
