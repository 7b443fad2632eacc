"""The linear models: patterns of stops, the covering MIP, the packing MIP and column generation,
and the one module that speaks to OR-Tools. They know nothing of time shares or of the plan they
serve; the rebuilds (rebuild/) and the bound (bound/) put them to work.

solvers.py   LinearModel / solve_linear (HiGHS through MathOpt), GrowingLp (GLOP, warm starts)
patterns.py  which pickup and drop-off sites one bus may serve; how many such patterns exist
cover.py     the covering MIP: buses per pattern and coach type, seats as flows
packing.py   the packing MIP: whole groups onto chosen buses
colgen.py    column generation on the pattern model: its Lagrangian and Farley bounds (the
             proofs are its module doc) and the dives; columns.py is its master LP and pricing,
             dive.py rounds the LP to whole buses, charges.py reads what its duals charge
             each demand

Imports dispatch.planner.model, .tuning, .cost and .world. Only rebuild/ and bound/ import it.
"""
