"""Construction: a first plan fast. Cheapest insertion of each group (two orders: by drop-off
site, and by county tour), new buses where none can take a group, then the cheapest coach type
that seats each bus. The rebuilds and the search reuse its insertion and downsizing.

greedy.py  insert_groups, by_county, best_insertion, open_bus, downsize, no_coach_reason,
           fixed_takes (a fixed trip takes a group at its own stops, seats permitting)
topup.py   fill_fixed: waiting groups into fixed trips' free seats first (best fit, biggest first)

Imports dispatch.planner.model, .world and .plan. The rebuilds, the search and solve() import it.
"""
