"""Benchmarks: scripts run as `python bench/<name>.py`; RESULTS.md holds their figures."""
