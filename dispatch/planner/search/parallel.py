"""Local search on two cores: a second process improves the same plan with the next seed, and the
cheaper of the two plans is kept (the parent's on a tie, so a seed still gives one plan).

The search is chaotic: from one start, seeds end up to 0.5 % apart on a 1,000-worker day, so the
better of two draws is worth a second core. The child is a fresh interpreter
(`python -m dispatch.planner.parallel`) that reads the problem, the buses, the deadline and the
seed as a pickle on stdin and writes its buses back on stdout: nothing of the caller (a web
server's threads, a script without a main guard) is forked or imported again. It needs about a
second to start, so short searches stay in one process. Whatever goes wrong in the child (a
crash, no answer in time) leaves the parent's plan, never no plan.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

from dispatch.planner import tuning
from dispatch.planner.search.ruin import improve
from dispatch.planner.world.buses import Bus, World, copy_buses, plan_cost

ROOT = Path(__file__).resolve().parents[3]  # where `dispatch` can be imported from


def improve_on_two_cores(world: World, buses: list[Bus], seconds: float, seed: int) -> None:
    """`improve` in place, raced by a second process with seed + 1 when there is time and a core."""
    if seconds < tuning.PARALLEL_MIN_SECONDS or (os.cpu_count() or 1) < 2:
        improve(world, buses, seconds, seed)
        return
    deadline = time.monotonic() + seconds
    payload = pickle.dumps((world.problem, copy_buses(buses), deadline, seed + 1))
    child = _Child(payload)
    improve(world, buses, seconds, seed)
    other = child.result(max(0.0, deadline - time.monotonic()) + tuning.PARALLEL_GRACE_SECONDS)
    if (
        other is not None
        and _served(other) == _served(buses)
        and plan_cost(world, other) < plan_cost(world, buses) - 1e-6
    ):
        buses[:] = other


class _Child:
    """The second search's process, fed and read by a thread so the parent never blocks on it."""

    def __init__(self, payload: bytes) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.out: bytes | None = None
        try:
            self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", "dispatch.planner.parallel"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError:  # no process to be had: the parent searches alone
            self.proc = None
            return
        self.thread = threading.Thread(target=self._talk, args=(payload,), daemon=True)
        self.thread.start()

    def _talk(self, payload: bytes) -> None:
        assert self.proc is not None
        out, _ = self.proc.communicate(payload)
        if self.proc.returncode == 0:
            self.out = out

    def result(self, wait: float) -> list[Bus] | None:
        """The child's buses, or None when it failed or did not answer within `wait` seconds."""
        if self.proc is None:
            return None
        self.thread.join(wait)
        if self.thread.is_alive():
            self.proc.kill()
            self.thread.join()
            return None
        try:
            buses = pickle.loads(self.out) if self.out else None
        except (pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return None
        return buses if isinstance(buses, list) else None


def _served(buses: list[Bus]) -> list[str]:
    """Every group on the buses, sorted."""
    return sorted(g for b in buses for g in b.groups)


def main() -> None:
    """The child (`python -m dispatch.planner.parallel`): a pickle (problem, buses, deadline,
    seed) in, the improved buses out."""
    problem, buses, deadline, seed = pickle.load(sys.stdin.buffer)
    improve(World(problem), buses, max(0.0, deadline - time.monotonic()), seed)
    sys.stdout.buffer.write(pickle.dumps(buses))
