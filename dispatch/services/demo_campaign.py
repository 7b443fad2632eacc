"""The demo's workers as a real campaign sends them (issue 17 §6).

Spring 2026 in Linfen: about 200 workers in one day, most of them to a handful of factories
that recruited at the county fairs. Here three factories (in 昆山, 无锡 and 上海松江) take
about 70 % of the workers; each county office tends to send its people to one of them (the
factory that recruited at its fair); the rest are scattered over other employers. The big
counties (尧都区, 洪洞县, 侯马市…) send more people than the mountain counties. About a
third travel with family or fellow villagers; windows are 0–2 days around the travel day.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from dispatch.models import County, Employer

ANCHOR_SITES = ("js-kunshan", "js-wuxi", "sh-songjiang")
# The other employers that recruited, each near one factory (within a bus's drop-off spread):
# a county office that works with a factory usually also works with a smaller firm nearby.
NEAR = {
    "js-kunshan": ("js-taicang", "js-sip"),
    "js-wuxi": ("js-changzhou", "js-suzhou"),
    "sh-songjiang": ("sh-jiading", "js-suzhou"),
}
LOYALTY = 0.85  # share of a county's other workers who go to its partner's neighbour
ANCHOR_SHARE = 0.7
AFFINITY = 0.9  # share of a county's factory workers who go to its partner factory
# Workers per county, roughly as the counties' populations. The mountain counties held their
# fairs later: they send nobody on this campaign's days.
COUNTY_WEIGHTS = {
    "yaodu": 16,
    "hongtong": 14,
    "houma": 9,
    "xiangfen": 9,
    "quwo": 7,
    "yicheng": 7,
    "huozhou": 6,
    "fushan": 4,
    "xiangning": 4,
}
GROUP_SIZES = (1, 1, 1, 1, 1, 1, 2, 2, 3, 4)  # a third travel in groups
WINDOW_DAYS = (0, 1, 1, 2)
START_OFFSETS = (0,)  # a campaign leaves on its day; some can also go a day or two later


class CampaignWishes:
    """Draws where and when each demo group wants to travel (same seed, same campaign)."""

    def __init__(
        self, rng: random.Random, counties: list[County], employers: list[Employer], day: date
    ) -> None:
        self.rng, self.day = rng, day
        self.counties = [c for c in counties if c.id in COUNTY_WEIGHTS] or counties
        self.weights = [COUNTY_WEIGHTS.get(c.id, 1) for c in self.counties]
        by_site: dict[str, list[Employer]] = {}
        for employer in employers:
            by_site.setdefault(employer.site_id, []).append(employer)
        self.anchors = [by_site[s][0] for s in ANCHOR_SITES if s in by_site]
        anchor_ids = {a.id for a in self.anchors}
        belt = {site for sites in NEAR.values() for site in sites}
        self.others = [e for e in employers if e.site_id in belt and e.id not in anchor_ids]
        self.others = self.others or list(employers)
        # Each county's partner factory, dealt round so that every factory gets big counties,
        # and the smaller firm near it that the county also sends people to.
        order = sorted(self.counties, key=lambda c: -COUNTY_WEIGHTS.get(c.id, 1))
        self.partner: dict[str, Employer] = {}
        self.neighbour: dict[str, Employer] = {}
        for i, county in enumerate(order):
            if not self.anchors:
                break
            anchor = self.anchors[i % len(self.anchors)]
            self.partner[county.id] = anchor
            near = [e for s in NEAR.get(anchor.site_id, ()) for e in by_site.get(s, [])]
            if near:
                self.neighbour[county.id] = near[(i // len(self.anchors)) % len(near)]

    def group_size(self, left: int) -> int:
        return min(left, self.rng.choice(GROUP_SIZES))

    def wish(self) -> dict:
        """One group's county, employer and travel window."""
        county = self.rng.choices(self.counties, weights=self.weights)[0]
        earliest = self.day + timedelta(days=self.rng.choice(START_OFFSETS))
        return {
            "county": county,
            "employer": self._employer(county),
            "earliest": earliest,
            "latest": earliest + timedelta(days=self.rng.choice(WINDOW_DAYS)),
        }

    def _employer(self, county: County) -> Employer:
        if self.anchors and self.rng.random() < ANCHOR_SHARE:
            if self.rng.random() < AFFINITY:
                return self.partner[county.id]
            return self.rng.choice(self.anchors)
        if county.id in self.neighbour and self.rng.random() < LOYALTY:
            return self.neighbour[county.id]
        return self.rng.choice(self.others)
