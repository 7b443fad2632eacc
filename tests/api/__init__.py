"""The HTTP API: its OpenAPI document checked by schemathesis, and the trip and seat endpoints."""
