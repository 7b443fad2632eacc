"""Local search: improving a plan that serves every group it can, keeping every rule.

descent.py   descend: empty buses, relocate groups, swaps, stop exchanges, cheaper coaches
swap.py      two buses trade one group each when that takes a stop off one of them
exchange.py  a bus hands one stop's groups to another bus for a few of its own
squeeze.py   fewer buses: one bus taken off, its groups seated by ruin and recreate (stop rules)
ruin.py      improve: a squeeze, then ruin-and-recreate rounds with kicks between descents
             (seeded, capped)
parallel.py  improve_on_two_cores: the same search with the next seed in a second process
             (started as `python -m dispatch.planner.parallel`), the cheaper plan kept

Imports dispatch.planner.model, .tuning, .world, .plan and .construct. The LP-guided rebuild and
solve() import it.
"""
