"""What the plan pages show in words: planner stages, reasons, the unserved list within scope."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dispatch.models import Plan
from dispatch.services import choices, plan_queries, plan_queue, publishing, topup
from dispatch.web import list_sep

# The planner reports its stages in English (it knows no Flask); the page says them in the
# coordinator's language.
STAGES = {
    "started": _l("starting"),
    "greedy plan": _l("building a first plan"),
    "optimising": _l("optimising the buses"),
    "column generation": _l("combining routes"),
    "improving": _l("improving"),
    "lower bound": _l("checking how good the plan is"),
    "storing": _l("storing the draft"),
    "done": _l("done"),
}

DROP_REASONS = {
    publishing.SEATED_ELSEWHERE: _l("already seated on bus %(detail)s of a published plan"),
    publishing.WITHDRAWN: _l("withdrawn after planning"),
    publishing.NOT_OPEN: _l("no longer waiting for a bus (status: %(detail)s)"),
    publishing.WINDOW: _l("departure window changed to %(detail)s"),
    publishing.DESTINATION: _l("destination changed after planning"),
    publishing.PICKUP: _l("pickup point changed after planning"),
}

PLANNER_REASONS = [  # (what greedy.no_coach_reason and planning say, the words shown, their values)
    (
        re.compile(r"no coach with (\d+) seats left on (\S+)"),
        _l("no coach with %(n)s seats left on %(days)s"),
        ("n", "days"),
    ),
    (re.compile(r"no coach left on (\S+)"), _l("no coach left on %(days)s"), ("days",)),
    (re.compile(r"no coach with (\d+) seats"), _l("no coach with %(n)s seats"), ("n",)),
    (re.compile(r"no common day"), _l("the group's departure windows share no day"), ()),
]


def stage(message: str) -> str:
    """A planner stage in the page's language (unknown stages as they came)."""
    label = STAGES.get(message)
    return str(label) if label is not None else message


def failure(plan: Plan) -> str:
    """Why a plan failed, in the page's language when the reason is the queue's own."""
    if plan.error == plan_queue.INTERRUPTED:
        return _(
            "The machines planning it stopped %(n)d times in a row; start the plan again.",
            n=plan.attempts,
        )
    if (plan.error or "").startswith(plan_queue.UNEXPECTED):  # an exception's text: SQL, paths
        return _(
            "The planner stopped on an unexpected error (the server's log has it under plan "
            "%(id)d). Start the plan again; if it fails again, tell the administrator.",
            id=plan.id,
        )
    return plan.error or ""


def reason(item: dict) -> str:
    """Why a group is not served, in the page's language."""
    text = str(item.get("reason", ""))
    if item.get("dropped"):
        label = DROP_REASONS.get(text)
        why = label % {"detail": item.get("detail", "")} if label else text
        return _("Dropped at publishing: %(why)s", why=why)
    for pattern, label, keys in PLANNER_REASONS:
        found = pattern.search(text)
        if found:
            return str(label % dict(zip(keys, found.groups(), strict=True))) if keys else str(label)
    return text


def drop_reason(drop: publishing.Drop) -> str:
    label = DROP_REASONS.get(drop.reason)
    return label % {"detail": drop.detail} if label else drop.reason


@dataclass(frozen=True)
class UnservedRow:
    group: str  # a travel-group code, or "" for a single worker
    names: list[str]  # the workers of the viewer's counties
    others: int  # workers of other counties: counted, never named
    reason: str


def unserved_rows(
    plan: Plan, scope: set[str] | None, most: int | None = None
) -> tuple[list[UnservedRow], int]:
    """The plan's unserved groups, naming only the workers of ``scope`` (None: every county):
    at most ``most`` groups named, then a row counting other counties' groups; and how many of
    the viewer's groups were left out past ``most`` (a season short of coaches leaves tens of
    thousands unserved)."""
    ids = [int(m[1:]) for item in plan.unassigned or [] for m in item.get("workers", [])]
    workers = plan_queries.worker_names(ids)
    rows, hidden_groups, hidden_people, left_out = [], 0, 0, 0
    for item in plan.unassigned or []:
        members = [workers.get(int(m[1:])) for m in item.get("workers", [])]
        own = [w for w in members if w is not None and (scope is None or w[1] in scope)]
        if not own:  # another county's group: counted together, never named
            hidden_groups, hidden_people = hidden_groups + 1, hidden_people + len(members)
            continue
        if most is not None and len(rows) >= most:
            left_out += 1
            continue
        rows.append(
            UnservedRow(
                topup.group_code_of(str(item.get("group", ""))),
                [w[0] for w in own],
                len(members) - len(own),
                reason(item),
            )
        )
    if hidden_people:
        why = _(
            "%(n)d groups of other counties: their coordinators see who and why.", n=hidden_groups
        )
        rows.append(UnservedRow("", [], hidden_people, why))
    return rows, left_out


def drops_message(drops: list[publishing.Drop], shown: int = 5) -> str:
    """One message naming the workers publishing left out, and why (the rest under Not served)."""
    parts = [
        _("%(name)s (%(bus)s: %(why)s)", name=d.name, bus=d.trip_code, why=drop_reason(d))
        for d in drops[:shown]
    ]
    more = _(" and %(n)d more", n=len(drops) - shown) if len(drops) > shown else ""
    return _(
        "%(n)d workers were left out and are sent nothing: %(who)s%(more)s. They are listed under Not served.",
        n=len(drops),
        who="；".join(parts),
        more=more,
    )


FLEET_REASON = re.compile(
    r"no coach (?:with \d+ seats )?left on"
)  # the free fleet ran out that day


@dataclass(frozen=True)
class Shortage:
    day: date
    coach_type: str  # the type's name
    missing: int


def shortages(plan: Plan) -> list[Shortage]:
    """Per day, how many coaches of the biggest type would carry the groups left for want of a free
    coach (at least that many: each group counted on its first possible day)."""
    short = [i for i in plan.unassigned or [] if FLEET_REASON.search(str(i.get("reason", "")))]
    if not short:  # the stored problem (15 MB at 100,000 workers) is read only when needed
        return []
    problem = plan.problem or {}
    limited = [c for c in problem.get("coach_types", []) if c.get("available")]
    if not limited:
        return []
    biggest = max(limited, key=lambda c: c["passenger_seats"])
    groups = {g["id"]: g for g in problem.get("groups", [])}
    people: dict[date, int] = defaultdict(int)
    for item in short:
        group = groups.get(item.get("group"))
        if group:
            people[date.fromisoformat(group["earliest"])] += group["size"]
    names = choices.coach_type_names()
    return [
        Shortage(day, names.get(biggest["id"], biggest["id"]), -(-n // biggest["passenger_seats"]))
        for day, n in sorted(people.items())
    ]


def merged_message(plan: Plan, merged) -> str:
    """What publishing a top-up did, for the flash on the live plan's page."""
    text = _(
        "Plan %(id)d was merged into plan %(target)d: %(n)d seated on existing buses, %(m)d new buses.",
        id=plan.id,
        target=merged.target.id,
        n=merged.topped_up,
        m=merged.new_buses,
    )
    if merged.moved:
        text += " " + _("%(n)d seated workers moved; each is told.", n=merged.moved)
    if merged.cancelled:
        text += " " + _(
            "Cancelled, nobody left on them: %(codes)s; drivers already told of them get an SMS "
            "that the bus will not run.",
            codes=list_sep().join(merged.cancelled),
        )
    return text


def shown_day(per_day: Mapping[date, int], asked: str | None, most: int) -> date | None:
    """The one day whose buses the plan page lists once the plan runs more than `most` buses
    (PLAN_PAGE_BUSES): the asked one (?day=) when the plan has it, else the first; None while
    every day fits on the page. A season's 2,000 buses and 33 maps on one page took 3 s to
    build and 3 MB to send."""
    if sum(per_day.values()) <= most:
        return None
    try:
        wanted = date.fromisoformat(asked or "")
    except ValueError:  # a mangled address: the first day, as with none
        wanted = None
    return wanted if wanted in per_day else min(per_day)
