"""Shared test support: fixtures in plugin modules loaded by tests/conftest.py, and helpers the
tests import from here (no test imports a conftest or another test module)."""
