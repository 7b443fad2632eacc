"""One set of field rules for the form, the API and imports: every error names its field."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.extensions import db
from dispatch.identity import make_id_number
from dispatch.models import Worker
from dispatch.services import workers as service
from dispatch.services.worker_fields import Lookups, NumericCell, clean_worker
from tests.support.workers import id_number, worker_row


@pytest.fixture
def ctx(demo_app):
    with demo_app.app_context():
        yield Lookups.load()


def test_a_valid_worker_is_cleaned_with_derived_fields(ctx):
    cleaned = clean_worker(worker_row(1, id_number=id_number(1).lower()), ctx)
    assert cleaned.ok, cleaned.errors
    values = cleaned.values
    assert values["id_number"] == id_number(1)
    assert values["phone"] == "+8613903570001"
    assert values["birth_date"] == date(1990, 5, 1) and values["sex"] == "F"
    assert values["pickup_site_id"] == "hongtong"  # the county's pickup point by default
    assert values["sms_consent"] is True


def test_full_width_id_and_chinese_place_names_are_accepted(ctx):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in id_number(2))
    cleaned = clean_worker(
        worker_row(2, id_number=full_width, county="洪洞县", destination="昆山市"), ctx
    )
    assert cleaned.ok, cleaned.errors
    assert cleaned.values["id_number"] == id_number(2)
    assert cleaned.values["county_id"] == "hongtong"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"id_number": id_number(3)[:17] + ("0" if id_number(3)[17] != "0" else "1")}, "id_number"),
        ({"id_number": "14102419900230001" + "5"}, "id_number"),
        ({"id_number": make_id_number("141024", date(2011, 6, 1), 5)}, "id_number"),  # 14 years old
        ({"id_number": 141024199005010018}, "id_number"),
        ({"id_number": "1.41081199201e+17"}, "id_number"),
        ({"phone": "0357-2345678"}, "phone"),
        ({"phone": "1380013800"}, "phone"),
        ({"county": "beijing"}, "county"),
        ({"pickup_point": "js-kunshan"}, "pickup_point"),
        ({"destination": "hongtong"}, "destination"),
        ({"employer": "没有这家公司"}, "employer"),
        ({"earliest_date": ""}, "earliest_date"),
        ({"earliest_date": "2026-02-30"}, "earliest_date"),
        ({"latest_date": "2026-03-01"}, "latest_date"),
        ({"group": "g" * 41}, "group"),
        ({"sms_consent": "也许"}, "sms_consent"),
    ],
)
def test_each_bad_field_is_named(ctx, changes, field):
    cleaned = clean_worker(worker_row(3, **changes), ctx)
    assert set(cleaned.errors) == {field}, cleaned.errors


def test_numeric_id_cell_asks_for_a_text_column(ctx):
    cleaned = clean_worker(worker_row(4, id_number=NumericCell(1.41081199201e17)), ctx)
    message = cleaned.errors["id_number"]
    assert "文本" in message or "as text" in message


def test_under_sixteen_is_judged_on_the_departure_date(ctx):
    turns_16 = make_id_number("141024", date(2010, 3, 2), 7)
    assert clean_worker(worker_row(5, id_number=turns_16, earliest_date="2026-03-02"), ctx).ok
    young = clean_worker(worker_row(5, id_number=turns_16, earliest_date="2026-03-01"), ctx)
    assert set(young.errors) == {"id_number"}


def test_slash_dates_and_latest_defaulting_to_earliest(ctx):
    cleaned = clean_worker(worker_row(6, earliest_date="2026/3/5", latest_date=""), ctx)
    assert cleaned.ok, cleaned.errors
    assert cleaned.values["earliest_date"] == cleaned.values["latest_date"] == date(2026, 3, 5)


@pytest.mark.parametrize(
    "written",
    [
        "2026年3月5日",
        "2026年03月05日",
        "２０２６年３月５日",
        "2026年3月5号",
        "20260305",
        "2026.3.5",
    ],
)
def test_dates_as_county_sheets_write_them(ctx, written):
    cleaned = clean_worker(worker_row(8, earliest_date=written, latest_date=""), ctx)
    assert cleaned.ok, cleaned.errors
    assert cleaned.values["earliest_date"] == date(2026, 3, 5)


@pytest.mark.parametrize("written", ["3月5日", "12/14/2026", "2026-03-05至2026-03-06", "202603"])
def test_a_date_not_understood_is_named_with_what_was_read(ctx, written):
    cleaned = clean_worker(worker_row(9, earliest_date=written), ctx)
    assert f"“{written}”不是日期" in cleaned.errors["earliest_date"]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("王　建国", "王建国"),
        ("周 涛", "周涛"),
        (" 韩 梅梅 ", "韩梅梅"),
        ("买买提·艾力", "买买提·艾力"),
    ],
)
def test_spaces_lining_up_a_chinese_name_are_not_kept(ctx, typed, kept):
    cleaned = clean_worker(worker_row(10, name=typed), ctx)
    assert cleaned.ok and cleaned.values["name"] == kept


def test_an_empty_county_or_destination_asks_for_one_instead_of_listing_every_name(ctx):
    cleaned = clean_worker(worker_row(11, county="", destination=""), ctx)
    assert cleaned.errors["county"] == "请选择户籍县区。"
    assert cleaned.errors["destination"] == "请选择目的地。"  # was "目的地无法识别" + all 12 names
    unknown = clean_worker(worker_row(11, destination="火星"), ctx)
    assert "目的地无法识别" in unknown.errors["destination"]


def test_a_coordinator_cannot_register_outside_their_counties(demo_app):
    with demo_app.app_context():
        lookups = Lookups.load({"hongtong"})
        assert clean_worker(worker_row(7), lookups).ok
        assert set(clean_worker(worker_row(7, county="xixian"), lookups).errors) == {"county"}


# --- travel groups --------------------------------------------------------------------------


def _register(rows):
    for row in rows:
        service.create_worker(row, None, Lookups.load())
    db.session.flush()


def test_group_of_51_fits_a_coach_but_52_does_not(demo_app):
    with demo_app.app_context():
        assert Lookups.load().max_group_size == 51
        _register(worker_row(n, group="G51") for n in range(10, 61))
        with pytest.raises(service.InvalidWorker) as caught:
            service.create_worker(worker_row(61, group="G51"), None, Lookups.load())
        assert set(caught.value.errors) == {"group"}
        assert db.session.query(Worker).filter_by(group_code="G51").count() == 51


def test_group_members_must_share_pickup_and_destination(demo_app):
    with demo_app.app_context():
        _register([worker_row(70, group="FAM")])
        for changes in ({"destination": "js-wuxi"}, {"pickup_point": "yaodu"}):
            with pytest.raises(service.InvalidWorker) as caught:
                service.create_worker(worker_row(71, group="FAM", **changes), None, Lookups.load())
            assert set(caught.value.errors) == {"group"}
        _register([worker_row(71, group="FAM")])


def test_a_group_code_is_a_countys_so_two_counties_families_may_share_one(demo_app):
    """Unrelated families of two counties chose the same code (the join page suggests surname
    and phone digits): the second was refused for the first one's pickup and destination, and
    the planner would have seated them as one group."""
    from dispatch.services import planning

    with demo_app.app_context():
        _register([worker_row(75, group="王1234"), worker_row(76, group="王1234")])
        _register(
            [
                worker_row(77, group="王1234", county="yaodu", destination="js-wuxi"),
                worker_row(78, group="王1234", county="yaodu", destination="js-wuxi"),
            ]
        )
        with pytest.raises(service.InvalidWorker):  # within a county, still one group
            service.create_worker(
                worker_row(79, group="王1234", destination="js-wuxi"), None, Lookups.load()
            )
        problem = planning.build_problem(planning.Scope(date(2026, 3, 2), date(2026, 3, 3)))
        families = [g for g in problem["groups"] if g["id"].startswith("g:王1234")]
        assert sorted((g["pickup"], g["dropoff"], g["size"]) for g in families) == [
            ("hongtong", "js-kunshan", 2),
            ("yaodu", "js-wuxi", 2),
        ]


def test_group_windows_must_overlap(demo_app):
    with demo_app.app_context():
        _register([worker_row(80, group="W", earliest_date="2026-03-02", latest_date="2026-03-02")])
        late = worker_row(81, group="W", earliest_date="2026-03-04", latest_date="2026-03-05")
        with pytest.raises(service.InvalidWorker) as caught:
            service.create_worker(late, None, Lookups.load())
        assert set(caught.value.errors) == {"group"}


def test_withdrawn_members_do_not_count_towards_a_group(demo_app):
    with demo_app.app_context():
        _register([worker_row(90, group="X", destination="js-wuxi")])
        service.withdraw_worker(db.session.query(Worker).filter_by(group_code="X").one(), None)
        service.create_worker(worker_row(91, group="X"), None, Lookups.load())


def test_editing_a_member_is_judged_without_its_old_self(demo_app):
    with demo_app.app_context():
        _register([worker_row(95, group="E")])
        worker = db.session.query(Worker).filter_by(group_code="E").one()
        changed = service.update_worker(worker, {"destination": "js-wuxi"}, None, Lookups.load())
        assert changed == ["destination_site_id"]


def test_registering_an_id_again_returns_the_existing_worker(demo_app):
    with demo_app.app_context():
        first = service.create_worker(worker_row(99), None, Lookups.load())
        with pytest.raises(service.DuplicateWorker) as caught:
            service.create_worker(
                worker_row(99, name="别人", id_number=id_number(99).lower()), None, Lookups.load()
            )
        assert caught.value.existing.id == first.id
        assert db.session.query(Worker).filter_by(id_number=id_number(99)).count() == 1
