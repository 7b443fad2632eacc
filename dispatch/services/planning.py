"""From open demand to a stored draft plan: the plan row, the solve, who may manage a plan.

Building the problem lives in plan_problem.py (with the published buses of the period from
topup.py), storing the result in plan_store.py; their public names are importable from here.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import select

from dispatch import planner
from dispatch.extensions import db
from dispatch.models import County, Plan, User
from dispatch.models import trips as t
from dispatch.services import audit
from dispatch.services.plan_problem import (
    MAX_PERIOD_DAYS,
    PlanningError,
    Scope,
    build_problem,
    count_open_workers,
    fleet_entered,
    open_workers,
    period_error,
)
from dispatch.services.plan_store import planner_distance, store_result
from dispatch.services.scope import covered_counties

__all__ = [
    "MAX_PERIOD_DAYS",
    "MAX_TIME_LIMIT_S",
    "PlanningError",
    "Scope",
    "add_plan",
    "chosen_counties",
    "build_problem",
    "count_open_workers",
    "covered_counties",
    "fleet_entered",
    "foreign_counties",
    "may_manage",
    "open_workers",
    "period_error",
    "planner_distance",
    "solve_plan",
    "start_plan",
    "store_result",
    "with_problem_facts",
]

MAX_TIME_LIMIT_S = 600  # the longest solve a plan request may ask for, in seconds


def start_plan(
    scope: Scope, user: User | None, base: Plan | None = None, time_limit_s: float | None = None
) -> Plan:
    """A plan row in state running, with its problem stored (scripts and tests solve it here)."""
    problem = build_problem(scope, base)
    plan = add_plan(scope, user, base, time_limit_s, status=t.PLAN_RUNNING, problem=problem)
    plan.scope = with_problem_facts(plan.scope, problem)
    return plan


def with_problem_facts(scope: dict | None, problem: dict) -> dict:
    """The plan's scope with what its page tells of the stored problem, which a season makes
    megabytes of JSON (120 ms a key on PostgreSQL): whether any coach had been entered."""
    return {**(scope or {}), "fleet_entered": bool(problem.get("fleet_entered", True))}


def add_plan(
    scope: Scope, user: User | None, base: Plan | None, time_limit_s: float | None, **values
) -> Plan:
    """A new plan row for ``scope`` (re-planning ``base`` if given), flushed and audited."""
    plan = Plan(
        date_from=scope.date_from,
        date_to=scope.date_to,
        scope={
            "counties": list(scope.counties),
            "destinations": list(scope.destinations),
            "base_plan": base.id if base is not None else None,
            "allow_moves": scope.allow_moves,
        },
        created_by_id=user.id if user else None,
        time_limit_s=time_limit_s,
        **values,
    )
    db.session.add(plan)
    db.session.flush()
    audit.record(
        user, "plan.run", "plan", plan.id, {"from": str(scope.date_from), "to": str(scope.date_to)}
    )
    return plan


def solve_plan(
    plan: Plan, time_limit_s: float, seed: int = 0, progress: Callable | None = None
) -> dict:
    """Run the planner on the plan's stored problem; returns the plan in file form."""
    problem = planner.load_problem(plan.problem)
    result = planner.solve(problem, time_limit_s=time_limit_s, seed=seed, progress=progress)
    return planner.plan_to_dict(result)


def foreign_counties(user: User, chosen: tuple[str, ...]) -> str | None:
    """Why an API plan request may not name these counties: some are not the user's (None when
    all are, or the user has every county). The page's form offers the user's own only, and
    chosen_counties plans those when another is posted."""
    allowed = user.county_ids()
    foreign = sorted(set(chosen) - allowed) if allowed is not None else []
    if not foreign:
        return None
    return _(
        "You may only plan your own counties: %(names)s is not one of them.",
        names="、".join(foreign),
    )


def chosen_counties(user: User, chosen: tuple[str, ...]) -> tuple[str, ...]:
    """The counties a plan request covers: a county coordinator's own only (all, if none chosen)."""
    allowed = user.county_ids()
    if allowed is None:
        return chosen
    return tuple(c for c in chosen if c in allowed) or tuple(sorted(allowed))


def may_manage(user: User | None, plan: Plan) -> bool:
    """Whether ``user`` may re-plan, publish or discard ``plan``: every county it covers is theirs."""
    if user is None or not user.can_edit:
        return False
    scope = user.county_ids()
    if scope is None:
        return True
    covered = covered_counties(plan)
    if covered is None:
        covered = set(db.session.scalars(select(County.id)))
    return covered <= scope
