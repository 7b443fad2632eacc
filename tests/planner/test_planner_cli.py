"""The command line: solve, check, and malformed problems refused with one line per fault."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dispatch.planner import ProblemError, load_problem
from dispatch.planner.__main__ import main
from tests.support.planner import group, problem_dict


def _write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_solve_then_check_through_the_real_command(tmp_path: Path) -> None:
    problem = _write(tmp_path / "p.json", problem_dict([group("g1", 3), group("g2", 4, "yaodu")]))
    run = subprocess.run(
        [sys.executable, "-m", "dispatch.planner", "solve", problem, "--time-limit", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    plan = json.loads(run.stdout)
    assert plan["format"] == "dispatch-plan/1" and plan["summary"]["buses"] == 1
    plan_path = _write(tmp_path / "plan.json", plan)
    checked = subprocess.run(
        [sys.executable, "-m", "dispatch.planner", "check", problem, plan_path],
        capture_output=True,
        text=True,
    )
    assert (checked.returncode, checked.stdout) == (0, "")


def test_check_reports_a_broken_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = _write(tmp_path / "p.json", problem_dict([group("g1", 3)]))
    out = tmp_path / "plan.json"
    assert main(["solve", problem, "--time-limit", "0.5", "-o", str(out)]) == 0
    plan = json.loads(out.read_text(encoding="utf-8"))
    plan["trips"][0]["seats"]["g1-m3"] = 1
    plan["trips"][0]["cost"] += 100
    _write(out, plan)
    assert main(["check", problem, str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("rule 7:") for line in lines)
    assert any(line.startswith("rule 6:") for line in lines)


MALFORMED = [
    (group("g1", 3, pickup="nowhere"), "unknown pickup site 'nowhere'"),
    (group("g1", 60), "size 60 is larger than every coach (51 seats)"),
    ({**group("g1", 2), "earliest": "2026-02-30"}, "earliest/latest must be dates"),
    ({**group("g1", 3), "members": ["a", "b"]}, "size 3 but 2 members"),
    ({**group("g1", 2), "latest": "2026-02-01"}, "is after latest"),
    (group("g1", 2, dropoff="yaodu"), "dropoff site yaodu is a pickup site"),
]


@pytest.mark.parametrize(("bad", "message"), MALFORMED)
def test_malformed_problem_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: dict[str, Any], message: str
) -> None:
    problem = _write(tmp_path / "p.json", problem_dict([group("ok", 2), bad]))
    assert main(["solve", problem]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "g1" in err[0]


def test_every_fault_is_listed() -> None:
    data = problem_dict(
        [group("g1", 3, pickup="nowhere"), {**group("g2", 3), "members": ["x"]}],
        rules={"max_pickup_stops": 0},
    )
    with pytest.raises(ProblemError) as err:
        load_problem(data)
    assert len(err.value.faults) == 3


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["solve", str(bad)]) == 2
    assert "is not JSON" in capsys.readouterr().err
