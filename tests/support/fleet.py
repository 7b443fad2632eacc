"""Builders for the fleet tests: a fresh deployment after `reference load`, coaches, drivers, buses."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dispatch.extensions import db
from dispatch.models import Coach, Driver, Plan, Site, Trip, TripStop
from dispatch.models.trips import PLAN_PUBLISHED
from dispatch.services import accounts
from dispatch.services.availability import road_km
from dispatch.services.reference import load_reference
from dispatch.services.timing import stop_times

ZONE = ZoneInfo("Asia/Shanghai")
ADMIN_PASSWORD = "admin-pass-123"
COORD_PASSWORD = "coord-pass-123"
DAY = date(2026, 3, 1)


def fresh_deployment() -> None:
    """What a bureau has after `reference load` and creating its first accounts."""
    load_reference()
    accounts.create_user("admin", "admin", ADMIN_PASSWORD)
    accounts.create_user("hong", "coordinator", COORD_PASSWORD, ["hongtong"])


def add_coach(plate: str = "晋L·A1234", type_id: str = "c53", **fields) -> Coach:
    coach = Coach(plate=plate, coach_type_id=type_id, **fields)
    db.session.add(coach)
    db.session.flush()
    return coach


def add_driver(name: str, phone: str, **fields) -> Driver:
    driver = Driver(name=name, phone=phone, **fields)
    db.session.add(driver)
    db.session.flush()
    return driver


def add_plan(status: str = PLAN_PUBLISHED, day: date = DAY) -> Plan:
    plan = Plan(status=status, date_from=day, date_to=day)
    db.session.add(plan)
    db.session.flush()
    return plan


def add_trip(
    plan: Plan,
    code: str,
    day: date,
    hour: int = 7,
    pickup: str = "hongtong",
    dropoff: str = "js-kunshan",
    type_id: str = "c53",
) -> Trip:
    """A bus from a county pickup point to a destination, its stop times as the planner estimates."""
    departure = datetime.combine(day, time(hour), tzinfo=ZONE)
    km = road_km(db.session.get(Site, pickup), db.session.get(Site, dropoff))
    etas = stop_times(departure, [0.0, km], ["pickup", "dropoff"])
    trip = Trip(
        plan=plan, code=code, date=day, departure_at=departure, coach_type_id=type_id, km=km
    )
    trip.stops = [
        TripStop(seq=0, site_id=pickup, kind="pickup", leg_km=0.0, eta=etas[0]),
        TripStop(seq=1, site_id=dropoff, kind="dropoff", leg_km=km, eta=etas[1]),
    ]
    db.session.add(trip)
    db.session.flush()
    return trip


COACH_HEADERS = [
    "车牌号",
    "核定座位数",
    "运输企业",
    "驾驶员1",
    "驾驶员1电话",
    "驾驶员2",
    "驾驶员2电话",
    "道路运输证号",
    "有效期至",
]
GOOD_ROWS = [
    [
        "晋LA1234",
        53,
        "临汾长运",
        "张建国",
        "13800138001",
        "李志红",
        "13800138002",
        "晋交运管临字141000001",
        "2027-06-30",
    ],
    [
        "晋L·B5678",
        45,
        "临汾长运",
        "王海波",
        "13800138003",
        "赵春兰",
        "13800138004",
        "晋交运管临字141000002",
        "2027/6/30",
    ],
]
BAD_ROWS = [
    ["晋L12", 53, "临汾长运", "", "", "", "", "", ""],  # plate too short
    ["晋LC9999", 99, "临汾长运", "刘师傅", "12345", "", "", "", "明年"],  # seats, phone, date
    ["晋LA1234", 53, "临汾长运", "", "", "", "", "", ""],  # the first row's plate again
]


def coach_sheet(path, rows: list[list]) -> str:
    """An operator's coach list as .xlsx, dates typed as text the way clerks do."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(COACH_HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)
