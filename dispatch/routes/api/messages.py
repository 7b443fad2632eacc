"""The outbox under /api/v1/messages (CONTRACTS.md §5, §7)."""

from __future__ import annotations

from flask import g, jsonify

from dispatch.routes.api import schemas
from dispatch.routes.api.base import bp, paging
from dispatch.routes.api.input import choice_arg, int_arg
from dispatch.routes.messages import price_per_segment, reason_label
from dispatch.services import message_reports as reports


@bp.get("/messages")
def list_messages():
    page, per_page = paging()
    filters = reports.MessageFilter(
        status=choice_arg("status", reports.STATUSES),
        kind=choice_arg("kind", schemas.MESSAGE_KINDS),
        trip_id=int_arg("trip_id"),
    )
    query = reports.filtered_messages(g.api_user.county_ids(), filters)
    items, total = reports.page_of(query, page, per_page)
    price = price_per_segment()
    return jsonify(
        items=[reports.message_json(m, price, reason_label(m)) for m in items],
        page=page,
        per_page=per_page,
        total=total,
    )
