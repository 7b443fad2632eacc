"""The JSON API under /api/v1 (CONTRACTS.md §5), authenticated by bearer tokens.

``bp`` (base.py) carries the token check, rate limit and commit; workers.py, trips.py,
messages.py, plans.py and fleet.py (a blueprint nested in ``bp``, endpoints ``api.fleet.*``) attach the
endpoints; errors.py is the error shape, input.py checks input against the OpenAPI schemas
(schemas.py, openapi_fleet.py) that openapi.py serves. Only the app factory imports this
package; web.py and the manifest's JSON endpoints may import errors.py.
"""

from __future__ import annotations

from dispatch.routes.api import fleet, messages, plans, trips, workers  # noqa: F401  (views join bp)
from dispatch.routes.api.base import bp

bp.register_blueprint(fleet.bp)
