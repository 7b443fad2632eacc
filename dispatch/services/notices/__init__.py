"""Deciding which notices go out, when, and in what words (the sending is dispatch.notify's).

- ``texts.py`` decides the wording: every notice's Chinese text (departure, reminder,
  welfare, change, cancellation, driver), plain values in, text out.
- ``journeys.py``: one worker's journey and the notices it calls for, with their due times
  and urgency (quiet hours, the evening-before reminder).
- ``changes.py``: changes to a published trip turned into new versions or cancellations.
- ``notices.py``: the entry points the rest of dispatch calls (schedule_for_published_plan,
  schedule_changes, schedule_pending_changes, schedule_driver_notices, preview, estimate);
  they write drafts into the outbox through dispatch.notify.writer and never send.

Routes, other services and dispatch.jobs may import this package; dispatch.notify never
does (it only sends what is written here).
"""
