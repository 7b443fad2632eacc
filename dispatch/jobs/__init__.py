"""The jobs that run outside a web request, and the scheduler that runs them (APScheduler).

- ``scheduler.py``: the outbox tick (announce pending changes, send what is due), the daily
  retention rule, and start_scheduler / run_scheduler_forever that schedule them.
- ``planning_worker.py``: runs queued plans; ``solver_process.py``: the planner in a process
  of its own.

A job works inside an app context, calls services and dispatch.notify, and commits at its end.
Only the command line imports this package; create_app, routes, services and dispatch.notify
never do.
"""
