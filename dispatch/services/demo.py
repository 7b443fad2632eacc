"""Reference data (counties, sites) and demo data (employers, fleet, workers)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.identity import PhoneError, make_id_number, normalise_mobile, parse_id_number
from dispatch.models import (
    DROPOFF,
    Coach,
    County,
    Driver,
    Employer,
    Operator,
    Site,
    Worker,
)
from dispatch.services.demo_campaign import CampaignWishes
from dispatch.services.reference import COACH_TYPES, DATA, load_reference  # noqa: F401  (re-exported)

DEMO_DAY = date(2026, 3, 1)
FLEET = {"c53": 6, "c45": 4, "c33": 3}
OPERATOR = "临汾市长途客运有限公司"
EMPLOYER_SUFFIXES = ("电子科技有限公司", "精密制造有限公司", "物流有限公司")
EMPLOYER_STEMS = ("华东", "恒信", "瑞丰", "博远", "中科", "新元", "汇通", "锦程", "永泰")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红梅海波鹏飞晓东春兰玉"
MOBILE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "152", "158", "186", "187")


@dataclass(frozen=True)
class DemoReport:
    counties: int
    sites: int
    employers: int
    coaches: int
    workers_added: int


CAMPAIGN, SPREAD = "campaign", "spread"
PROFILES = (CAMPAIGN, SPREAD)


def load_demo(
    workers: int = 200, seed: int = 2026, day: date = DEMO_DAY, profile: str = CAMPAIGN
) -> DemoReport:
    """Load reference data, employers, fleet and ``workers`` demo workers; safe to repeat.

    The workers want to leave around ``day`` (the spring 2026 dispatch by default; a coming
    day shows the SMS and the drivers' links working, which only serve journeys ahead).
    ``profile``: ``campaign`` (most workers to three factories, as a real campaign:
    demo_campaign.py) or ``spread`` (every county-to-employer pair equally likely: the
    suite's fixtures, which exercise many small groups).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown demo profile {profile!r}")
    load_reference()
    sites = db.session.scalar(select(func.count(Site.id)))
    counties = db.session.scalar(select(func.count(County.id)))
    employers = _load_employers(seed)
    coaches = _load_fleet()
    db.session.flush()
    added = _load_workers(workers, seed, day, profile) if workers else 0
    return DemoReport(counties, sites, employers, coaches, added)


def _load_employers(seed: int) -> int:
    rng = random.Random(seed)
    contacts = random.Random(seed + 1)  # apart, so the names stay those of earlier demos
    count = 0
    for site in db.session.scalars(select(Site).filter_by(kind=DROPOFF).order_by(Site.id)):
        city = site.name_zh.removesuffix("区").removesuffix("市")[:2]
        for suffix in EMPLOYER_SUFFIXES[: 2 + rng.randrange(2)]:
            name = f"{city}{rng.choice(EMPLOYER_STEMS)}{suffix}"
            if not db.session.scalar(select(Employer).filter_by(name=name, site_id=site.id)):
                db.session.add(
                    Employer(
                        name=name,
                        site_id=site.id,
                        address=site.name_zh,
                        # who receives the workers at the gate (the arrival SMS names them)
                        contact_name=_person_name(contacts),
                        contact_phone=_mobile(contacts),
                    )
                )
            count += 1
    return count


def _load_fleet() -> int:
    operator = db.session.scalar(select(Operator).filter_by(name=OPERATOR))
    if operator is None:
        operator = Operator(name=OPERATOR)
        db.session.add(operator)
        db.session.flush()
    rng = random.Random(53)
    number = 0
    for type_id, count in FLEET.items():
        for _ in range(count):
            number += 1
            _add_coach(f"晋L·{'ABD'[number % 3]}{1000 + number * 37}", type_id, operator, rng)
    return number


def _add_coach(plate: str, type_id: str, operator: Operator, rng: random.Random) -> None:
    if db.session.scalar(select(Coach).filter_by(plate=plate)):
        return
    drivers = [
        Driver(
            name=_person_name(rng), phone=_mobile(rng), operator=OPERATOR, operator_id=operator.id
        )
        for _ in range(2)
    ]
    db.session.add_all(drivers)
    db.session.add(
        Coach(
            plate=plate,
            operator=OPERATOR,
            operator_id=operator.id,
            coach_type_id=type_id,
            driver1=drivers[0],
            driver2=drivers[1],
        )
    )


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _mobile(rng: random.Random) -> str:
    while True:
        try:
            return normalise_mobile(rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}")
        except PhoneError:
            continue


def _load_workers(count: int, seed: int, day: date, profile: str) -> int:
    """Add demo workers in families and singles; the same seed gives the same people."""
    rng = random.Random(seed)
    counties = db.session.scalars(select(County).order_by(County.id)).all()
    employers = db.session.scalars(select(Employer).order_by(Employer.id)).all()
    existing = set(db.session.scalars(select(Worker.id_number)))
    campaign = CampaignWishes(rng, counties, employers, day) if profile == CAMPAIGN else None
    added = made = 0
    while made < count:
        if campaign is not None:
            size = campaign.group_size(count - made)
            template = campaign.wish()
        else:
            size = min(count - made, rng.choice((1, 1, 1, 1, 2, 2, 3, 4, 5)))
            template = _trip_wish(rng, counties, employers, day)
        code = f"demo-{seed}-{made + 1}" if size > 1 else None
        for _ in range(size):
            worker = _demo_worker(rng, template, code)
            made += 1
            if worker.id_number not in existing:
                existing.add(worker.id_number)
                db.session.add(worker)
                added += 1
    return added


def _trip_wish(
    rng: random.Random, counties: list[County], employers: list[Employer], day: date
) -> dict:
    county = rng.choice(counties)
    employer = rng.choice(employers)
    earliest = day + timedelta(days=rng.choice((-1, 0, 0, 0, 1)))
    return {
        "county": county,
        "employer": employer,
        "earliest": earliest,
        "latest": earliest + timedelta(days=rng.choice((0, 0, 1, 2))),
    }


def _demo_worker(rng: random.Random, wish: dict, group_code: str | None) -> Worker:
    county: County = wish["county"]
    born = date(1966, 1, 1) + timedelta(days=rng.randrange(365 * 38))
    identity = parse_id_number(make_id_number(county.region_code, born, rng.randrange(1, 999)))
    return Worker(
        name=_person_name(rng),
        id_number=identity.value,
        phone=_mobile(rng),
        birth_date=identity.birth_date,
        sex=identity.sex,
        county_id=county.id,
        township=f"{county.name_zh}{rng.choice('东西南北')}{rng.choice('关庄村镇')}",
        pickup_site_id=county.default_pickup_id,
        destination_site_id=wish["employer"].site_id,
        employer_id=wish["employer"].id,
        earliest_date=wish["earliest"],
        latest_date=wish["latest"],
        group_code=group_code,
    )


def database_is_empty() -> bool:
    """True before any reference data was loaded."""
    return db.session.scalar(select(County.id).limit(1)) is None
