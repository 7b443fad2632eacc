"""Every time share and search constant of the planner, in one place.

These trade time for plan quality; none of them decides whether a plan keeps the rules or a bound
is valid. Modules read them as ``tuning.NAME`` when they run (never copied at import), so a test
or a benchmark may change one for a while.

Shares are fractions of the time *left* when a stage starts (``Budget.share``), except where a
comment says otherwise.
"""

from __future__ import annotations

# ---------------------------------------------------------------- solve(): the stages' shares
CONSTRUCT_SHARE = 0.1  # both greedy constructions together, at most CONSTRUCT_DESCENT_SECONDS
CONSTRUCT_DESCENT_SECONDS = 2.0  # per construction; a descent took 0.2–1.2 s at 1,000 workers
COVER_SHARE = 0.75  # the covering-MIP rebuild (rebuild/cover.py)
GUIDE_SHARE = 0.75  # column generation wants 10–30 s on a full day; local search stalls sooner
IMPROVE_SHARE = 0.85  # local search, when pattern bounds are still to be computed afterwards
# When column generation has bounded every block, or the rules set no stop limits, only the
# threshold bound is left to compute.
BOUNDED_SHARE = 0.97
# Seconds per group kept for what follows the search (trips, seats, the threshold bound): it took
# 1.2–1.9 s for 32,000 groups (100,000 workers) on this machine, and 3.2 s are kept for them.
FINAL_SECONDS_PER_GROUP = 1e-4

# ---------------------------------------------------------------- covering-MIP rebuild
COVER_PATTERN_LIMIT = 3_000  # at most this many patterns for the covering MIP of a date
COVER_MIP_SHARE = 0.8  # of a date's time for the covering MIP
COVER_PACK_SHARE = 0.2  # of a date's time for the packing MIP, and never less than:
PACK_MIN_SECONDS = 1.0
PACK_GAP_CNY = 10.0  # the packing MIP stops within this many CNY of its bound
# What a flexible group's seat earns when it leaves today rather than later, per seat, as a share
# of the cheapest full-bus cost per seat for its commodity.
SPARE_SEAT_SHARE = 0.8

# ---------------------------------------------------------------- LP-guided rebuild (dives)
DIVE_PACK_SHARE = 0.2  # of the block's time, at most, for the packing MIP (6 s at 3,000 workers)
REBUILD_DESCENT_SECONDS = 3.0  # local search after packing a dive
DIVE_SHARE = 0.6  # of the block's time at most, for the dives (within the bound's share)

# ---------------------------------------------------------------- final bound
# The fewest-buses MIP (bound/count.py): tried on blocks of at most this many patterns (the
# 300-worker days have 5,500-10,600; HiGHS proves their minimum in 2-8 s when alone), for at
# most this many seconds and this share of the bound's time. A quarter (about 9 s of a 60 s
# plan) was too close: on the 300-worker day of seed 6 it ran out in one run of two, and the
# plan kept 16 buses where the proven cover packs to 15 (6.0 % against 0.2-0.4 %). The MIP
# stops when it has proved its minimum, so the easy days take no longer.
FEWEST_PATTERN_LIMIT = 12_000
FEWEST_SECONDS = 20.0
FEWEST_SHARE = 0.5
PATTERN_MIN_SECONDS = 0.5  # a block's pattern bound is tried with at least this much time left

# ---------------------------------------------------------------- column generation
COLUMN_PATTERN_LIMIT = 150_000  # enumerating 50,000 patterns takes 1.5–4 s
COLUMN_MIN_SECONDS = 3.0  # below this the final bound does not start column generation
PRICING_BATCH = 400  # columns added per pricing round
PRICING_ROUNDS = 100_000  # per phase; the clock ends the loop first
DIVE_UP = 0.9  # columns run at least this much over a whole number are raised together
DIVE_ROUNDS = 8  # pricing rounds after each rounding step
# The dated model of a block of several dates (lp/dated.py) is tried when its patterns times its
# dates stay under this: 38,579 × 4 (3 days of 500 workers) converged in 16 s; 51,646 × 17 (the
# bench season) gave GLOP 32,758 rows and 30-40 s a solve, too slow to bound anything in time.
DATED_PATTERN_LIMIT = 250_000
# On such a block, this share of its time is kept for rebuilding each date as a day of its own
# (rebuild/dives.py) after the dated LP has said which groups go on which date.
DATES_REBUILD_SHARE = 0.4  # the dated LP took 21-23 s of the 42 s of 3 days of 500 workers

# ---------------------------------------------------------------- threshold bound
LEVEL_KM = 25.0  # buses are charged at multiples of this distance
THRESHOLD_SECONDS = 5.0  # time limit of its small MIP
THRESHOLD_GAP = 1e-3  # its relative gap (the proven bound is used, so any gap is valid)

# ---------------------------------------------------------------- local search
RUIN_ROUNDS = 50_000  # ruin-and-recreate rounds at most
STALL_ROUNDS = 1_000  # rounds without a better plan before a kick, or the end after MAX_KICKS
MAX_KICKS = 20
KICK_ROUNDS = 2  # ruin-and-recreate rounds taken regardless of cost in a kick
# Taking buses off (squeeze.py), where stop rules apply: at most this share of the search's
# seconds, these many ruin-and-recreate steps per bus before it is given up (a step takes about
# 0.7 ms at 1,000 workers), giving up after this many buses in a row stayed, and a short descent
# of a plan that lost a bus.
SQUEEZE_SHARE = 0.3
SQUEEZE_STEPS = 3_000
SQUEEZE_MISSES = 3
SQUEEZE_DESCENT_SECONDS = 2.0
POLISH_SHARE = 0.1  # of the search's seconds kept for the final descent
# Groups taken back in a stop exchange, at most. 3,000 workers, rules lifted, 29 s of search,
# seeds 1–4: at most 3 gave 970,929–971,896, 4 gave 970,466–971,031, 5 gave 970,509–971,462
# (fewer rounds).
MAX_BACK = 4

# ---------------------------------------------------------------- second process
PARALLEL_MIN_SECONDS = 10.0  # below this, starting a process does not pay
PARALLEL_GRACE_SECONDS = 2.0  # how long past the deadline the parent waits for the child

# ---------------------------------------------------------------- caches and exact orders
EXACT_ORDER_LIMIT = 7  # stop sets up to this size are ordered exactly (Held-Karp)
SITES_MEMO_LIMIT = 100_000  # remembered group lists of World.sites/load before a reset
