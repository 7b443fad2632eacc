"""Deciding which notices go out, when, and in what words (the sending is dispatch.notify's).

- ``templates.py``: every notice kind as a provider template (wording with ${variables} in
  Chinese and English, each variable's type and limit, the purpose); ``catalogue.py`` prints
  them for the provider's console (`flask sms templates`).
- ``texts.py`` decides the words of each journey notice: plain facts in, the template's
  variables and the text as the phone shows it out, within its segment budget.
- ``journeys.py``: one worker's journey and the notices it calls for, with their due times
  and urgency (quiet hours, the evening-before reminder).
- ``changes.py``: changes to a published trip turned into new versions or cancellations.
- ``notices.py``: the entry points the rest of dispatch calls (schedule_for_published_plan,
  schedule_changes, schedule_pending_changes, schedule_driver_notices, preview, estimate);
  they write drafts into the outbox through dispatch.notify.writer and never send.

Routes, other services and dispatch.jobs may import this package; dispatch.notify never
does (it only sends what is written here).
"""
