"""bench/plan_queue.py's watch on the plan it measures: its status, progress and heartbeat from
the database, and the peak memory of the worker and its solver from /proc."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select

from dispatch.models import Plan
from tests.support.gunicorn import children

TERMINAL = ("draft", "failed", "cancelled", "discarded")


# --- the plan, watched from the database and /proc ----------------------------------------


class Watch(threading.Thread):
    """Polls the plan row (4 Hz) and the worker's process tree (2 Hz) until the plan ends."""

    def __init__(self, url: str, worker_pid: int) -> None:
        super().__init__(name="watch", daemon=True)
        self.engine = create_engine(url, pool_size=1)
        self.worker_pid, self.plan_id = worker_pid, None
        self.marks: dict[str, float] = {}  # first monotonic moment of running/solving/stored/…
        self.walls: dict[str, datetime] = {}
        self.row: dict = {}
        self.beats: list[datetime] = []
        self.oldest_beat_s = 0.0  # the longest the heartbeat was seen stale while running
        self.peak: dict[int, tuple[str, int]] = {}  # pid → (role, VmHWM kB)
        self.solvers_seen: set[int] = set()
        self.done = threading.Event()
        self.timeline: list[str] = []
        self.state: tuple = ()

    def mark(self, name: str) -> None:
        if name not in self.marks:
            self.marks[name], self.walls[name] = time.monotonic(), datetime.now(UTC)
            self.note(name)

    def note(self, what: str) -> None:
        """A line of the run's timeline (printed at the end, kept in the logs)."""
        self.timeline.append(f"{datetime.now(UTC):%H:%M:%S.%f}"[:-3] + f" {what}")

    def run(self) -> None:
        c = Plan.__table__.c  # a few columns: the problem is megabytes of JSON
        query = select(c.status, c.attempts, c.progress_message, c.heartbeat_at, c.claimed_by)
        tick = 0
        while not self.done.is_set():
            if self.plan_id is not None:
                with self.engine.connect() as conn:
                    row = conn.execute(query.where(c.id == self.plan_id)).mappings().one()
                    self.see(dict(row))
            if tick % 2 == 0:
                self.sample_processes()
            tick += 1
            time.sleep(0.25)

    def see(self, row: dict) -> None:
        state = (row["status"], row["attempts"], row["progress_message"][:40])
        if state != self.state:
            self.state = state
            beat = row["heartbeat_at"]
            self.note(f"{state[0]} claim {state[1]} {state[2]!r} heartbeat {beat and f'{beat:%X}'}")
        self.row = row
        if row["status"] == "running":
            self.mark("running")
            beat = row["heartbeat_at"]
            if beat is not None and (not self.beats or beat != self.beats[-1]):
                self.beats.append(beat)
            if beat is not None:
                age = (datetime.now(UTC) - beat).total_seconds()
                self.oldest_beat_s = max(self.oldest_beat_s, age)
        elif row["status"] in TERMINAL:
            self.mark("ended")
            self.done.set()

    def sample_processes(self) -> None:
        solvers = children(self.worker_pid)
        helpers = {pid for solver in solvers for pid in children(solver)}
        if solvers - self.solvers_seen:
            self.note(f"solver process {sorted(solvers - self.solvers_seen)}")
        if solvers:
            self.mark("solving")
            self.solvers_seen |= solvers
        elif self.solvers_seen:
            self.mark("solved")
        roles = [(self.worker_pid, "worker")] + [(p, "solver") for p in solvers]
        for pid, role in roles + [(p, "solver helper") for p in helpers]:
            kb = _vm_hwm(pid)
            if kb:
                self.peak[pid] = (role, max(kb, self.peak.get(pid, (role, 0))[1]))


def _vm_hwm(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) if found else 0
