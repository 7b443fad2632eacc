"""The second search process: `python -m dispatch.planner.parallel` is the child interpreter that
search/parallel.py starts (improve_on_two_cores). It reads a pickle (problem, buses, deadline,
seed) on stdin and writes the improved buses on stdout; the logic lives in search/parallel.py."""

from __future__ import annotations

from dispatch.planner.search.parallel import main

if __name__ == "__main__":
    main()
