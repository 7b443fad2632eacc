"""The walls of the house (STYLE.md): a pure planner, one module that speaks Twilio, and tests
that share code only through tests/support (no test imports a conftest or another test module)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent / "dispatch"
FORBIDDEN_IN_PLANNER = ("flask", "flask_sqlalchemy", "sqlalchemy", "twilio", "apscheduler")
FORBIDDEN_DISPATCH = (
    "dispatch.models",
    "dispatch.routes",
    "dispatch.notify",
    "dispatch.extensions",
)


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


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, with ``from x import y`` also counted as ``x.y``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_test_imports_a_conftest_or_a_test_module():
    """Shared fixtures and helpers live in tests/support (fixtures as plugins of tests/conftest.py)."""
    files = list(TESTS.rglob("*.py"))
    assert len(files) > 50, "tests/ has lost its modules"
    found = []
    for path in files:
        for name in _imported_modules(path):
            parts = [part for part in name.split(".") if part]
            if any(part == "conftest" or part.startswith("test_") for part in parts):
                found.append(f"{path.relative_to(TESTS.parent)} imports {name}")
    assert found == []


def test_every_test_folder_is_a_package_and_no_test_lies_loose():
    """Tests are grouped by area in packages (tests.<area>.test_x), none at the top of tests/."""
    loose = sorted(p.name for p in TESTS.glob("test_*.py"))
    assert loose == []
    folders = {p.parent for p in TESTS.rglob("*.py")}
    bare = [str(f.relative_to(TESTS)) for f in folders if not (f / "__init__.py").exists()]
    assert sorted(bare) == []
