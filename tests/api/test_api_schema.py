"""Schemathesis against /api/v1/openapi.json: no 5xx, and every response as the document says.

The API runs for real (WSGI, the demo database with a published plan) and is called with real
tokens of the demo users. `positive_data_acceptance` is left out: the document cannot express
every rule (GB 11643 checksums, a worker's bus fitting his pickup), so schema-valid input may
rightly get 422; the other checks hold.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import func, select

from dispatch import create_app
from dispatch.extensions import db
from dispatch.models import Plan, Trip, User, Worker
from dispatch.routes.api.openapi import spec
from dispatch.services.accounts import create_token
from tests.support.apps import base_config

EXAMPLES = int(
    os.environ.get("DISPATCH_SCHEMATHESIS_EXAMPLES", "15")
)  # 15: < 60 s; more for a deep run


@pytest.fixture(scope="module")
def planned_template(tmp_path_factory, demo_template: Path) -> Path:
    """The demo database with one published plan, built once for this module."""
    folder = tmp_path_factory.mktemp("schema")
    path = folder / "planned.db"
    shutil.copy(demo_template, path)
    app = create_app(base_config(folder, f"sqlite:///{path}"), instance_path=str(folder))
    runner = app.test_cli_runner()
    with app.app_context():  # the demo's travel days (they follow the date it was loaded on)
        first = db.session.scalar(select(func.min(Worker.earliest_date)))
    window = ["--from", first.isoformat(), "--to", (first + timedelta(days=3)).isoformat()]
    assert runner.invoke(args=["plan", "run", *window, "--time-limit", "1"]).exit_code == 0
    with app.app_context():
        plan_id = db.session.scalar(select(Plan.id))
    assert runner.invoke(args=["plan", "publish", str(plan_id)]).exit_code == 0
    with app.app_context():  # every connection closed: the last one folds the WAL into the file
        db.engine.dispose()
    return path


@pytest.fixture(scope="module")
def schema_app(tmp_path_factory, planned_template: Path):
    folder = tmp_path_factory.mktemp("schema-app")
    shutil.copy(planned_template, folder / "db.sqlite")
    app = create_app(
        {**base_config(folder, f"sqlite:///{folder / 'db.sqlite'}"), "API_REQUESTS_PER_MINUTE": 0},
        instance_path=str(folder),
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def _bearer(app, username: str) -> dict[str, str]:
    with app.app_context():
        token = create_token(db.session.scalar(select(User).filter_by(username=username)))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def tokens(schema_app) -> dict[str, dict[str, str]]:
    return {name: _bearer(schema_app, name) for name in ("admin", "hong")}


@pytest.fixture(scope="module")
def known_ids(schema_app) -> dict[str, int]:
    """Path parameters that name real rows (a Hongtong worker, a published trip, its seat 1, its
    plan, the first coach, driver, employer and site)."""
    from dispatch.models import Coach, Driver, Employer, Site

    with schema_app.app_context():
        worker_id = db.session.scalar(select(Worker.id).filter_by(county_id="hongtong"))
        trip_id = db.session.scalar(select(Trip.id).order_by(Trip.id))
        plan_id = db.session.get(Trip, trip_id).plan_id
        fleet = {
            f"{name}_id": db.session.scalar(select(model.id).order_by(model.id))
            for name, model in (
                ("coach", Coach),
                ("driver", Driver),
                ("employer", Employer),
                ("site", Site),
            )
        }
    return {"worker_id": worker_id, "trip_id": trip_id, "seat_no": 1, "plan_id": plan_id, **fleet}


@pytest.fixture(scope="module")
def api_schema(schema_app):
    # Unknown query parameters are ignored on purpose (cache busters); the token is ours.
    config = schemathesis.Config.from_dict(
        {"generation": {"allow-extra-parameters": False, "with-security-parameters": False}}
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", schema_app, config=config)


def _operations() -> list[tuple[str, str]]:
    paths = spec()["paths"]
    return [
        (path, method.upper())
        for path, item in paths.items()
        for method in item
        if method != "parameters"
    ]


# The pytest plugin's lazy fixture loader does not run under pytest 9 (it reads
# `Function._nodeid`), so each operation gets a plain Hypothesis test over its strategy.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("username", ["admin", "hong"])
@pytest.mark.parametrize(("path", "method"), _operations())
def test_operation_answers_as_documented(
    api_schema, tokens, known_ids, path, method, username, mode
):
    operation = api_schema[path][method]
    cases = operation.as_strategy(generation_mode=mode)
    real = {name: value for name, value in known_ids.items() if "{" + name + "}" in path}
    if real:  # random ids mostly miss: half the cases name rows that exist
        cases = st.one_of(cases, operation.as_strategy(generation_mode=mode, path_parameters=real))

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        case.call_and_validate(headers=tokens[username], excluded_checks=[positive_data_acceptance])

    try:
        call()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        pytest.skip("nothing in this operation can be sent invalid (a free-text path parameter)")


def _route_shapes(rule: str) -> list[str]:
    """A rule's paths with each parameter as {} and an any(a, b) converter as each choice."""
    shapes = [rule.removeprefix("/api/v1")]
    while any("<any(" in shape for shape in shapes):
        shape = shapes.pop(0)
        found = re.search(r"<any\(([^)]*)\):\w+>", shape)
        if found is None:
            shapes.append(shape)
            continue
        choices = [c.strip() for c in found.group(1).split(",")]
        shapes += [shape[: found.start()] + choice + shape[found.end() :] for choice in choices]
    return [re.sub(r"<(?:\w+:)?\w+>", "{}", shape) for shape in shapes]


def test_every_api_route_is_in_the_document(schema_app):
    routes = {
        (shape, method)
        for rule in schema_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for shape in _route_shapes(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(re.sub(r"\{\w+\}", "{}", path), method) for path, method in _operations()}
    assert routes == documented
