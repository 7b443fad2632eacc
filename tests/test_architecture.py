"""The walls of the house (STYLE.md): a pure planner, one module that speaks Twilio."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "dispatch"
FORBIDDEN_IN_PLANNER = ("flask", "flask_sqlalchemy", "sqlalchemy", "twilio", "apscheduler")
FORBIDDEN_DISPATCH = ("dispatch.models", "dispatch.routes", "dispatch.notify", "dispatch.extensions")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_planner_imports_no_web_database_or_sms_code():
    files = list((ROOT / "planner").rglob("*.py"))
    assert files, "dispatch/planner has no modules"
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN_IN_PLANNER, f"{path.name} imports {name}"
            assert not name.startswith(FORBIDDEN_DISPATCH), f"{path.name} imports {name}"


def test_only_one_module_imports_twilio():
    users = [p for p in ROOT.rglob("*.py") if any(n.split(".")[0] == "twilio" for n in _imports(p))]
    assert len(users) <= 1, users


def test_create_app_never_starts_the_scheduler():
    assert "scheduler" not in (ROOT / "__init__.py").read_text(encoding="utf-8").lower()
