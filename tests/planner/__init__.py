"""The planner on its own: exact and random small problems, bounds, the search, the CLI."""
