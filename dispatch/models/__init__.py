"""The domain model, one module per area; import models from here."""

from dispatch.models.accounts import ADMIN, COORDINATOR, ROLES, VIEWER, ApiToken, AuditEvent, User
from dispatch.models.fleet import Coach, CoachType, Driver, Operator
from dispatch.models.messages import InboundReply, OutboundMessage
from dispatch.models.ratelimit import RateLimitCounter
from dispatch.models.reference import DROPOFF, PICKUP, County, Employer, Site, WelfareHandout
from dispatch.models.selfservice import BoardingScan, VerificationCode
from dispatch.models.trips import Plan, SeatAssignment, Trip, TripChange, TripStop
from dispatch.models.types import utcnow
from dispatch.models.workers import WORKER_STATUSES, Worker

__all__ = [
    "ADMIN",
    "COORDINATOR",
    "DROPOFF",
    "PICKUP",
    "ROLES",
    "VIEWER",
    "WORKER_STATUSES",
    "ApiToken",
    "BoardingScan",
    "InboundReply",
    "AuditEvent",
    "Coach",
    "CoachType",
    "County",
    "Driver",
    "Employer",
    "Operator",
    "OutboundMessage",
    "Plan",
    "RateLimitCounter",
    "SeatAssignment",
    "Site",
    "Trip",
    "TripChange",
    "TripStop",
    "User",
    "VerificationCode",
    "WelfareHandout",
    "Worker",
    "utcnow",
]
