"""Reading the problem: a problem dict (the file form of PLANNER_FORMAT.md) validated into the
frozen dataclasses of dispatch.planner.model, every fault reported, and back again.

validate.py  parse_problem: every fault, one line each
files.py     load_problem, problem_to_dict, and the trip form shared with plans

Imports only dispatch.planner.model. Anything may import it.
"""
