"""The worker form's lists and fields (workers.py's pages): not a blueprint."""

from __future__ import annotations

from flask_login import current_user

from dispatch.identity import mask_id_number, mask_phone
from dispatch.models import DROPOFF, PICKUP, WORKER_STATUSES, Worker
from dispatch.services import choices
from dispatch.services import workers as service
from dispatch.web import pickup_place, select_locale


def form_choices(worker: Worker | None = None, *, filters: bool = False) -> dict:
    """The lists of the list page's filters and of the worker form, in the user's language.

    The form offers no deactivated site or employer, except ``worker``'s own current ones;
    the filters offer them all (workers may still be registered there).
    """
    locale = select_locale()
    counties = choices.counties(current_user.county_ids())
    held = {worker.pickup_site_id, worker.destination_site_id} if worker is not None else set()
    sites = [s for s in choices.sites() if filters or s.active or s.id in held]
    pickups = [s for s in sites if s.kind == PICKUP]
    destinations = [s for s in sites if s.kind == DROPOFF]
    mine = worker.employer_id if worker is not None else None
    employers = [e for e in choices.employers() if filters or e.active or e.id == mine]
    return {
        "counties": counties,
        "destinations": destinations,
        "statuses": WORKER_STATUSES,
        "county_options": [(c.id, c.display_name(locale), "") for c in counties],
        "pickup_options": [(s.id, pickup_place(s), s.county_id or "") for s in pickups],
        "destination_options": [(s.id, s.display_name(locale), "") for s in destinations],
        "employer_options": [(e.id, e.name, e.site_id) for e in employers],
    }


def shown(worker: Worker) -> dict:
    """A worker's fields for the form; a viewer gets the ID and phone masked (CONTRACTS §6)."""
    raw = service.as_raw(worker)
    if not current_user.can_edit:
        raw.update(id_number=mask_id_number(worker.id_number), phone=mask_phone(worker.phone))
    return raw
