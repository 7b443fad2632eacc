"""The planning worker: claims queued plans and solves each in a process of its own.

Runs as ``flask --app dispatch worker run`` (a planning machine), inside ``scheduler run``, and
inside the web process under ``make run`` (the in-process scheduler). Each of its
PLANNER_WORKERS slots runs one plan at a time: it builds the problem from the database, hands it
to ``dispatch.jobs.solver_process``, beats the plan's heartbeat every PLANNER_HEARTBEAT_S with
the latest progress, and stores the draft under its claim. A cancelled plan (the claim gone)
kills the solver at the next beat. Plans whose worker vanished are taken up again by whichever
worker reaps them first (services/plan_queue.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import time as clock_time
from pathlib import Path

from flask import Flask

from dispatch.extensions import db
from dispatch.models import utcnow
from dispatch.services import plan_queue, planning

log = logging.getLogger("dispatch.planning")
ROOT = Path(__file__).resolve().parents[2]  # where `dispatch` can be imported from


class Stopped(Exception):
    """The run ended without a result: the claim is gone or the worker is stopping."""


def default_slots() -> int:
    """One plan at a time per two cores (a plan's search uses two), at least one."""
    return max(1, (os.cpu_count() or 1) // 2)


def owner_name() -> str:
    """How a running plan names the process running it: "host pid 123"."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def run_claim(app: Flask, claim: plan_queue.Claim, stopping: threading.Event | None = None) -> str:
    """Run one claimed plan to its end; returns "draft", "failed", "lost" or "released"."""
    stopping = stopping or threading.Event()
    heart = Heartbeat(app, claim)
    with app.app_context():
        try:
            heart.start()  # from the first moment: building a province's problem takes a while
            problem = plan_queue.prepare(claim)
            if problem is None:
                return "lost"
            result = _solve(claim, problem, heart, stopping)
            heart.stop()  # storing holds the plan's row: it says so instead (STORING_GRACE)
            if not plan_queue.beat(claim, 0.99, plan_queue.STORING):
                return "lost"
            departure = clock_time.fromisoformat(app.config["DEPARTURE_TIME"])
            stored = plan_queue.finish(claim, result, departure, app.config["TIMEZONE"])
            return "draft" if stored else "lost"
        except Stopped:
            if stopping.is_set() and plan_queue.release(claim):
                return "released"
            return "lost"
        except Exception as error:  # a failed run shows as failed, with its reason
            log.exception("plan %s failed", claim.plan_id)
            plan_queue.fail(claim, _reason(error))
            return "failed"
        finally:
            heart.stop()
            db.session.remove()


class Heartbeat:
    """Beats a claimed plan's heartbeat, with the latest progress, in a thread of its own."""

    def __init__(self, app: Flask, claim: plan_queue.Claim) -> None:
        self.app, self.claim = app, claim
        self.every = float(app.config["PLANNER_HEARTBEAT_S"])
        self.progress: tuple[float | None, str | None] = (None, None)
        self.lost = threading.Event()  # the claim is gone: cancelled, or taken up elsewhere
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(self.every + 5)

    def report(self, fraction: float, message: str) -> None:
        self.progress = (fraction, message)

    def _run(self) -> None:
        with self.app.app_context():
            try:
                while not self._done.wait(self.every):
                    if not plan_queue.beat(self.claim, *self.progress):
                        self.lost.set()
                        return
            except Exception:  # a database hiccup: the next worker's reaper decides
                log.exception("heartbeat of plan %s failed", self.claim.plan_id)
            finally:
                db.session.remove()


def _reason(error: Exception) -> str:
    if isinstance(error, planning.PlanningError):
        return str(error)
    return f"{plan_queue.UNEXPECTED}{type(error).__name__}: {error}"[:500]


def _solve(
    claim: plan_queue.Claim, problem: dict, heart: Heartbeat, stopping: threading.Event
) -> dict:
    """The planner's result for ``problem``, solved in a child process while the heart beats."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dispatch.jobs.solver_process",
            "--time-limit",
            str(claim.time_limit_s),
            "--seed",
            str(claim.seed),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group: a cancel kills its helpers too
    )
    lines: queue.Queue[dict | None] = queue.Queue()
    errors: list[bytes] = []
    pumps = [
        threading.Thread(target=_feed, args=(child, problem), daemon=True),
        threading.Thread(target=_read, args=(child, lines), daemon=True),
        threading.Thread(target=lambda: errors.append(child.stderr.read()), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    try:
        return _watch(child, lines, heart, stopping)
    except BaseException:
        _kill(child)
        raise
    finally:
        child.wait()
        for pump in pumps:  # the pipes reach their end once the child (and its group) is gone
            pump.join(5)
        for pipe in (child.stdin, child.stdout, child.stderr):
            pipe.close()
        if errors and errors[0]:
            log.debug("solver stderr: %s", errors[0][-2000:])


def _watch(
    child: subprocess.Popen,
    lines: queue.Queue[dict | None],
    heart: Heartbeat,
    stopping: threading.Event,
) -> dict:
    """The child's plan; Stopped as soon as the claim is gone or the worker stops."""
    while True:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            line = {}
        if line is None:  # the child closed its output: it ended without a plan
            child.wait()
            raise RuntimeError(f"the planner process stopped (exit code {child.returncode})")
        if "plan" in line:
            return line["plan"]
        if "progress" in line:
            heart.report(line["progress"], line.get("message", ""))
        if stopping.is_set() or heart.lost.is_set():
            raise Stopped


def _feed(child: subprocess.Popen, problem: dict) -> None:
    with contextlib.suppress(OSError):  # the child died first; _read reports it
        child.stdin.write(json.dumps(problem).encode())
        child.stdin.close()


def _read(child: subprocess.Popen, lines: queue.Queue[dict | None]) -> None:
    for raw in child.stdout:
        try:
            lines.put(json.loads(raw))
        except ValueError:
            log.warning("solver said: %r", raw[:200])
    lines.put(None)


def _kill(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(child.pid, signal.SIGKILL)


class PlanningWorker:
    """Claims queued plans into its slots until stopped; reaps stale plans as it goes."""

    def __init__(self, app: Flask, slots: int | None = None) -> None:
        self.app = app
        self.slots = slots or int(app.config.get("PLANNER_WORKERS") or 0) or default_slots()
        self.owner = owner_name()
        self.stopping = threading.Event()
        self.running: dict[int, threading.Thread] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> PlanningWorker:
        """Run in a background thread (the in-process scheduler's part)."""
        self.app.extensions["planning_worker"] = self
        self._thread = threading.Thread(target=self.run, name="planning-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, stop the solvers and give their plans back to the queue."""
        self.stopping.set()
        for thread in list(self.running.values()):
            thread.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The claim loop (blocking) until ``stop``."""
        poll = float(self.app.config["PLANNER_POLL_S"])
        log.info("planning worker %s with %d slot(s)", self.owner, self.slots)
        while not self.stopping.is_set():
            try:
                self.step()
            except Exception:  # a database hiccup must not end the worker
                log.exception("planning worker step failed")
            self.stopping.wait(poll)

    def step(self) -> int:
        """Reap stale plans and fill free slots; returns how many plans were claimed."""
        self.running = {k: th for k, th in self.running.items() if th.is_alive()}
        claimed = 0
        with self.app.app_context():
            try:
                reaped = plan_queue.reap_stale(utcnow(), float(self.app.config["PLANNER_STALE_S"]))
                if reaped:
                    log.warning("%d plan(s) without a heartbeat taken up again", reaped)
                while len(self.running) < self.slots and not self.stopping.is_set():
                    claim = plan_queue.claim_next(self.owner, self._default_limit())
                    if claim is None:
                        break
                    self._launch(claim)
                    claimed += 1
            finally:
                db.session.remove()
        return claimed

    def _default_limit(self) -> float:
        return float(self.app.config["PLANNER_TIME_LIMIT_S"])

    def _launch(self, claim: plan_queue.Claim) -> None:
        log.info("plan %s claimed by %s", claim.plan_id, self.owner)
        thread = threading.Thread(
            target=_logged,
            args=(self.app, claim, self.stopping),
            name=f"plan-{claim.plan_id}",
            daemon=True,
        )
        self.running[claim.plan_id] = thread
        thread.start()


def _logged(app: Flask, claim: plan_queue.Claim, stopping: threading.Event) -> None:
    log.info("plan %s: %s", claim.plan_id, run_claim(app, claim, stopping))


def drain(app: Flask, limit: int = 100, on_claim: Callable | None = None) -> list[str]:
    """Run queued plans one after another in this thread until none is left (scripts, tests)."""
    outcomes = []
    owner = owner_name()
    for _ in range(limit):
        with app.app_context():
            claim = plan_queue.claim_next(owner, float(app.config["PLANNER_TIME_LIMIT_S"]))
            db.session.remove()
        if claim is None:
            break
        if on_claim is not None:
            on_claim(claim)
        outcomes.append(run_claim(app, claim))
    return outcomes


def run_worker_forever(app: Flask) -> None:
    """``worker run``: plan until SIGTERM or Ctrl-C, then give running plans back."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    worker = PlanningWorker(app)

    def _stop(signum, _frame) -> None:
        log.info("planning worker stopping (signal %s)", signum)
        worker.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()
    worker.stop()
