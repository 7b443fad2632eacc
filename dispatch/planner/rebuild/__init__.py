"""The LP/MIP rebuilds: a greedy plan's blocks of dates planned again from linear models, kept
where they cost less, with the bounds proved on the way handed on to the final summary.

cover.py   rebuild_by_cover: per date a covering MIP, then packing (when patterns are few)
dives.py   rebuild_by_dives: column generation per block, its LP dived to whole buses and
           packed (full days, where the covering MIP has too many patterns)

Imports dispatch.planner.model, .tuning, .budget, .world, .construct, .search, .lp and .bound.
Only solve() imports it.
"""
