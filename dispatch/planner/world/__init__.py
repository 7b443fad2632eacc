"""The world a plan lives in: distances between sites, the best order of a bus's stops, working
buses, and the World object that answers every stage's questions (sites and seats of some groups,
stop rules, the cost of a bus); demand per commodity and blocks of dates.

distances.py  the format's distance rule and its shortest-path closure; stop orders
buses.py      Bus (a bus being filled) and World; free seats, usage, copies, plan cost
blocks.py     seats per (pickup, drop-off) commodity; blocks of dates no window joins

Imports only dispatch.planner.model, .tuning and .cost (which reads the distance rule of
distances.py, nothing else of here). Every later stage may import it.
"""
