"""Use cases: they flush; the request, command or scheduler job commits."""
