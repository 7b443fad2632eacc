"""``planner export``, ``plan run|publish`` and ``worker run``: plans from the command line."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from dispatch.extensions import db
from dispatch.models import Plan
from dispatch.services import plan_queue, planning, publishing

planner_cli = AppGroup("planner", help="The planner's problem files.")
plan_cli = AppGroup("plan", help="Plans: run and publish.")
worker_cli = AppGroup("worker", help="A planning worker: runs queued plans.")

DATE = click.DateTime(["%Y-%m-%d"])


def _scope(date_from: datetime, date_to: datetime, allow_moves: bool = False) -> planning.Scope:
    return planning.Scope(date_from.date(), date_to.date(), allow_moves=allow_moves)


@planner_cli.command("export")
@click.option("--from", "date_from", type=DATE, required=True)
@click.option("--to", "date_to", type=DATE, required=True)
@click.option("-o", "output", type=click.Path(dir_okay=False), help="File (default: stdout).")
def planner_export(date_from, date_to, output: str | None) -> None:
    """The open demand as a planner problem (PLANNER_FORMAT.md)."""
    try:
        problem = planning.build_problem(_scope(date_from, date_to))
    except planning.PlanningError as error:
        raise click.ClickException(str(error)) from None
    text = json.dumps(problem, ensure_ascii=False, indent=1)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text)


@plan_cli.command("run")
@click.option("--from", "date_from", type=DATE, required=True)
@click.option("--to", "date_to", type=DATE, required=True)
@click.option("--time-limit", type=float, help="Seconds (default PLANNER_TIME_LIMIT_S).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--allow-moves",
    is_flag=True,
    help="Seated workers who have not boarded may change bus or seat (each is told).",
)
def plan_run(date_from, date_to, time_limit: float | None, seed: int, allow_moves: bool) -> None:
    """Queue a plan, claim it and run it here (no worker needed); print its id first.

    Where the days already have published buses, the plan tops them up: waiting workers take
    their free seats first, new buses come only for the rest, nobody seated moves unless
    --allow-moves."""
    from dispatch.jobs import planning_worker

    app: Flask = current_app._get_current_object()
    limit = time_limit or float(app.config["PLANNER_TIME_LIMIT_S"])
    if not 0 < limit <= 24 * 3600:
        raise click.BadParameter("must be a number of seconds above 0", param_hint="--time-limit")
    owner = planning_worker.owner_name()
    try:
        scope = _scope(date_from, date_to, allow_moves)
        plan = plan_queue.queue_plan(scope, None, limit, owner=owner)
    except planning.PlanningError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    claim = plan_queue.claim_of(plan, seed)
    outcome = planning_worker.run_claim(app, claim)
    plan = db.session.get(Plan, claim.plan_id, populate_existing=True)
    if outcome != "draft":
        raise click.ClickException(f"plan {plan.id} {plan.status}: {plan.error or outcome}")
    click.echo(plan.id)
    workers = sum(len(trip.seats) for trip in plan.trips)
    click.echo(
        f"{len(plan.trips)} buses, {workers} workers seated, {len(plan.unassigned)} groups unassigned; "
        f"cost {plan.cost:,.0f} CNY, lower bound {plan.lower_bound_cost:,.0f}, gap {plan.gap:.1%}"
    )
    topup = (plan.scope or {}).get("topup")
    if topup:  # planned around published buses: what it adds to them
        click.echo(
            f"top-up of plan {', '.join(map(str, topup['plans']))}: {topup['topped_up']} seated "
            f"on existing buses, {topup['new_buses']} new buses, {topup['moved']} moved"
        )
    for item in plan.unassigned:
        click.echo(f"unassigned {item['group']}: {item['reason']}")


@plan_cli.command("publish")
@click.argument("plan_id", type=int)
def plan_publish(plan_id: int) -> None:
    """Publish a draft: seats become final and notices are scheduled."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise click.ClickException(f"no plan {plan_id}")
    try:
        result = publishing.publish(plan, None, None, current_app.config)
    except planning.PlanningError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    if result.merged is not None:
        m = result.merged
        click.echo(
            f"Plan {plan_id} merged into plan {m.target.id}: {m.topped_up} seated on existing "
            f"buses, {m.new_buses} new buses, {m.moved} moved."
        )
        for code in m.cancelled:
            click.echo(f"cancelled {code}: everyone on it moved")
    else:
        click.echo(
            f"Plan {plan_id} published: {result.seated} workers seated on {len(plan.trips)} buses."
        )
        if result.notices_deferred:
            click.echo("Their notices are written by the scheduler's next tick.")
    for drop in result.drops:  # seats that no longer stood: the worker is sent nothing
        click.echo(
            f"dropped w{drop.worker_id} from {drop.trip_code}: {drop.reason} {drop.detail}".rstrip()
        )


@worker_cli.command("run")
@click.option("--slots", type=click.IntRange(1, 64), help="Plans at once (PLANNER_WORKERS).")
def worker_run(slots: int | None) -> None:
    """Run queued plans until stopped (SIGTERM or Ctrl-C gives running plans back)."""
    from dispatch.jobs import planning_worker

    app: Flask = current_app._get_current_object()
    if slots:
        app.config["PLANNER_WORKERS"] = slots
    planning_worker.run_worker_forever(app)
