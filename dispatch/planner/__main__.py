"""python -m dispatch.planner solve|check (PLANNER_FORMAT.md)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dispatch.planner import check, load_problem, plan_from_dict, plan_to_dict, solve
from dispatch.planner.model import ProblemError

MALFORMED = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        problem = load_problem(_read_json(args.problem, "problem"))
        if args.command == "check":
            return _check(problem, args.plan)
        with _stdout_to_stderr():
            plan = solve(problem, args.time_limit, args.seed, _progress if args.verbose else None)
    except ProblemError as exc:
        for line in exc.faults:
            print(line, file=sys.stderr)
        return MALFORMED
    text = json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def _parser() -> argparse.ArgumentParser:
    """solve PROBLEM [--time-limit S] [--seed N] [-o PLAN]; check PROBLEM PLAN."""
    parser = argparse.ArgumentParser(prog="python -m dispatch.planner")
    sub = parser.add_subparsers(dest="command", required=True)
    solve_p = sub.add_parser("solve", help="plan the problem")
    solve_p.add_argument("problem")
    solve_p.add_argument("--time-limit", type=float, default=30.0)
    solve_p.add_argument("--seed", type=int, default=0)
    solve_p.add_argument("-o", "--output")
    solve_p.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    check_p = sub.add_parser("check", help="list every rule a plan breaks")
    check_p.add_argument("problem")
    check_p.add_argument("plan")
    return parser


def _read_json(path: str, what: str) -> Any:
    """A JSON file, or a ProblemError saying why not."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProblemError([f"{what}: cannot read {path}: {exc.strerror}"]) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProblemError([f"{what}: {path} is not JSON: {exc}"]) from exc


def _check(problem: Any, plan_path: str) -> int:
    """Print every violation; 0 when none."""
    plan = plan_from_dict(_read_json(plan_path, "plan"))
    violations = check(problem, plan)
    for line in violations:
        print(line)
    return 1 if violations else 0


def _progress(fraction: float, message: str) -> None:
    """Progress line on stderr."""
    print(f"{fraction:4.0%} {message}", file=sys.stderr)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send native solver banners to stderr so that stdout carries only the plan."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


if __name__ == "__main__":
    sys.exit(main())
