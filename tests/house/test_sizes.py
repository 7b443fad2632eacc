"""Modules a newcomer can read: none over 400 lines; and the solver process, which the planning
worker kills at will, holds nothing but the planner."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def test_no_module_exceeds_400_lines():
    files = [p for folder in ("dispatch", "tests", "bench") for p in (ROOT / folder).rglob("*.py")]
    assert len(files) > 100
    long = {
        str(p.relative_to(ROOT)): n
        for p in files
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_solver_process_imports_only_the_planner_and_the_standard_library():
    path = ROOT / "dispatch" / "jobs" / "solver_process.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(
                f"{node.module}.{alias.name}" if node.module == "dispatch" else node.module
                for alias in node.names
            )
    outside = {n for n in names if n.split(".")[0] not in _stdlib() and n != "dispatch.planner"}
    assert outside == set()


def _stdlib() -> set[str]:
    import sys

    return set(sys.stdlib_module_names) | {"__future__"}
