"""The planner in a process of its own: ``python -m dispatch.jobs.solver_process``.

A planning worker starts one per plan, writes the problem (PLANNER_FORMAT.md) as JSON on its
stdin and reads JSON lines from its stdout: ``{"progress": f, "message": m}`` while it solves,
then ``{"plan": {...}}``. It touches no database, so killing it (a cancel, a worker that stops)
leaves nothing half-stored; and it exits by itself when the worker that started it dies.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

from dispatch import planner


def _emit(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _exit_with_parent(parent: int) -> None:
    """Stop when the worker is gone (SIGKILL leaves no one to read the plan)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dispatch.jobs.solver_process")
    parser.add_argument("--time-limit", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    os.nice(5)  # the web processes on this machine answer first
    problem = planner.load_problem(json.load(sys.stdin))
    plan = planner.solve(
        problem,
        time_limit_s=args.time_limit,
        seed=args.seed,
        progress=lambda fraction, message: _emit({"progress": fraction, "message": message}),
    )
    _emit({"plan": planner.plan_to_dict(plan)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
