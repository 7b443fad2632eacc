"""Route maps for the plan and bus pages: loaded trips in, SVG out (drawing in route_map_svg)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from markupsafe import Markup

from dispatch.models import DROPOFF, Trip
from dispatch.services.route_map_svg import Route, Stop, draw


def _route(trip: Trip, locale: str, zone: ZoneInfo, fmt: str) -> Route:
    """A trip's stops as the map shows them (the trip's stops and sites already loaded)."""
    return Route(
        trip.code,
        tuple(
            Stop(
                s.site.display_name(locale),
                s.site.lon,
                s.site.lat,
                s.eta.astimezone(zone).strftime(fmt) if s.eta else "",
                s.kind != DROPOFF,
            )
            for s in trip.stops
        ),
    )


def day_map(trips: Sequence[Trip], locale: str, timezone: str) -> Markup:
    """A map of one day's buses, stop names only."""
    zone = ZoneInfo(timezone)
    routes = [_route(t, locale, zone, "%H:%M") for t in trips if t.stops]
    day = trips[0].date.isoformat() if trips else ""
    return draw(
        routes,
        _("Buses of %(day)s on the map", day=day),
        _(
            "%(n)d buses drawn as straight lines between their stops (not the roads): "
            "round dots are pickups, squares are drop-offs.",
            n=len(routes),
        ),
        times=False,
        locale=locale,
    )


def day_maps(trips: Sequence[Trip], locale: str, timezone: str) -> dict[date, Markup]:
    """A map per day of a plan's buses."""
    by_day: dict[date, list[Trip]] = defaultdict(list)
    for trip in trips:
        by_day[trip.date].append(trip)
    return {day: day_map(group, locale, timezone) for day, group in by_day.items()}


def bus_map(trip: Trip, locale: str, timezone: str) -> Markup:
    """A map of one bus's route with its stops' names and estimated times."""
    route = _route(trip, locale, ZoneInfo(timezone), "%m-%d %H:%M")
    return draw(
        [route] if route.stops else [],
        _("Route of bus %(code)s", code=trip.code),
        _(
            "The stops of bus %(code)s in order with their estimated times, joined by "
            "straight lines (not the roads): round dots are pickups, squares are drop-offs.",
            code=trip.code,
        ),
        times=True,
        locale=locale,
    )
