"""Views parse, call services and render: the walls of dispatch/routes/, read from the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DISPATCH = Path(__file__).resolve().parents[2] / "dispatch"
ROUTES = DISPATCH / "routes"
SCOPE_MODULE = DISPATCH / "services" / "scope.py"
SESSION_READS = {"execute", "scalars", "scalar", "query"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    parts = path.relative_to(DISPATCH.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _route_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROUTES.rglob("*.py"))}


def query_lines(tree: ast.AST) -> list[int]:
    """Lines that build or run a database query: ``select(…)``, ``db.session.execute/scalars/
    scalar/query(…)``, or ``Model.query`` (loading one object with ``db.session.get`` is fine)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "select":
                found.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            on_session = isinstance(owner, ast.Attribute) and owner.attr == "session"
            if on_session and node.func.attr in SESSION_READS:
                found.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "query"
            and isinstance(node.value, ast.Name)
            and node.value.id[:1].isupper()
        ):
            found.append(node.lineno)
    return found


def is_blueprint_module(tree: ast.Module) -> bool:
    """Whether the module makes a blueprint at its top level (``bp = Blueprint(…)``)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "Blueprint":
                return True
    return False


def imported_modules(tree: ast.AST, known: set[str]) -> set[str]:
    """The modules among ``known`` that ``tree`` imports (``from package import module`` too)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found & known


def county_filters(tree: ast.AST) -> list[int]:
    """Lines that write the county filter by hand: ``….county_id.in_(…)``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "in_"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "county_id"
    ]


def blueprint_imports(modules: dict[str, ast.Module]) -> list[str]:
    """``a -> b`` for each blueprint module ``a`` importing blueprint module ``b`` of another
    package: only the modules of a subpackage (the API: fleet.py nests its blueprint in
    base.py's) may import each other's blueprints."""
    blueprints = {name for name, tree in modules.items() if is_blueprint_module(tree)}
    wrong = []
    for name in sorted(blueprints):
        package = name.rsplit(".", 1)[0]
        for target in sorted(imported_modules(modules[name], blueprints)):
            family = package != "dispatch.routes" and target.rsplit(".", 1)[0] == package
            if target != name and not family:
                wrong.append(f"{name} -> {target}")
    return wrong


def test_no_view_module_builds_or_runs_a_query():
    offenders = {
        name: lines
        for name, path in _route_modules().items()
        if (lines := query_lines(_tree(path)))
    }
    assert offenders == {}, "move these reads into a service in dispatch/services/"


def test_no_blueprint_imports_another_blueprint():
    modules = {name: _tree(path) for name, path in _route_modules().items()}
    assert blueprint_imports(modules) == []


def test_the_county_filter_is_written_once_in_the_scope_module():
    offenders = {
        str(path.relative_to(DISPATCH)): lines
        for path in sorted(DISPATCH.rglob("*.py"))
        if path != SCOPE_MODULE and (lines := county_filters(_tree(path)))
    }
    assert offenders == {}, "use dispatch.services.scope.in_scope"
    assert county_filters(_tree(SCOPE_MODULE)) == []  # in_scope takes the column as an argument


def test_the_shared_homes_are_no_blueprints_and_the_checks_see_blueprints():
    modules = {name: _tree(path) for name, path in _route_modules().items()}
    blueprints = {name for name, tree in modules.items() if is_blueprint_module(tree)}
    for home in ("forms", "access", "labels", "announce"):
        assert f"dispatch.routes.{home}" not in blueprints
    assert {"dispatch.routes.trips", "dispatch.routes.api.base"} <= blueprints


@pytest.mark.parametrize(
    "source",
    [
        "rows = db.session.scalars(query)",
        "row = db.session.execute(text('x'))",
        "n = db.session.scalar(q)",
        "q = select(Worker)",
        "q = Worker.query.filter_by(id=1)",
        "rows = db.session.query(Worker).all()",
    ],
)
def test_the_query_check_sees_a_query(source):
    assert query_lines(ast.parse(source)) == [1]


def test_the_query_check_lets_a_view_load_one_object_by_id():
    assert query_lines(ast.parse("trip = db.session.get(Trip, 1)\n# select( in a comment")) == []


def test_the_import_check_sees_one_blueprint_importing_another():
    bp = "from flask import Blueprint\nbp = Blueprint('x', __name__)\n"
    modules = {
        "dispatch.routes.plans": ast.parse(bp + "from dispatch.routes.messages import LABELS"),
        "dispatch.routes.messages": ast.parse(bp),
        "dispatch.routes.boarding": ast.parse(bp + "from dispatch.routes import forms, manifest"),
        "dispatch.routes.manifest": ast.parse(bp),
        "dispatch.routes.forms": ast.parse("class CsrfForm: ...\n"),
        "dispatch.routes.api.base": ast.parse(bp),
        "dispatch.routes.api.fleet": ast.parse(bp + "from dispatch.routes.api import base"),
    }
    assert blueprint_imports(modules) == [
        "dispatch.routes.boarding -> dispatch.routes.manifest",
        "dispatch.routes.plans -> dispatch.routes.messages",
    ]


def test_the_county_filter_check_sees_a_hand_written_filter():
    source = "q = q.where(Worker.county_id.in_(scope))\nq = in_scope(q, Worker.county_id, s)"
    assert county_filters(ast.parse(source)) == [1]
