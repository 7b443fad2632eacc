"""Shared test support, loaded as pytest plugins from tests/conftest.py (no test imports a conftest)."""
