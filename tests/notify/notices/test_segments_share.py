"""Worker notices fit one 70-character segment, signature included, in at least 90 % of cases
on the demo's published plan (issue 18 §3): measured over every notice publishing writes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.models import OutboundMessage, Plan
from dispatch.notify.segments import count_segments
from dispatch.services.notices import notices
from tests.support.coaches import assign_coaches

NOW = datetime(2026, 2, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, days before every bus
WORKER_KINDS = ("departure", "reminder", "welfare")


def test_nine_in_ten_worker_notices_fit_one_segment(published_app, capsys):
    with published_app.app_context():
        plan = db.session.get(Plan, published_app.config["TEST_PLAN_ID"])
        assert assign_coaches(plan, before_notices=True) == len(plan.trips)
        db.session.commit()
        notices.schedule_for_published_plan(plan, NOW, published_app.config)
        db.session.commit()
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.worker_id.is_not(None))
        ).all()
    by_kind = Counter(r.kind for r in rows)
    assert set(by_kind) == set(WORKER_KINDS) and by_kind["departure"] > 150
    single = [r for r in rows if count_segments(r.body) == 1]
    share = len(single) / len(rows)
    for kind in WORKER_KINDS:
        mine = [r for r in rows if r.kind == kind]
        one = sum(count_segments(r.body) == 1 for r in mine)
        with capsys.disabled():
            print(f"\n{kind}: {one}/{len(mine)} in one segment")
    with capsys.disabled():
        print(f"worker notices in one segment: {len(single)}/{len(rows)} = {share:.1%}")
    assert share >= 0.9
    assert all(count_segments(r.body) <= 2 and r.segments == count_segments(r.body) for r in rows)
