"""ID numbers (GB 11643) and mobile numbers, as properties and as the examples of DOMAIN.md."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dispatch.identity import (
    IdNumberError,
    PhoneError,
    check_char,
    make_id_number,
    mask_id_number,
    mask_phone,
    normalise_mobile,
    parse_id_number,
)

regions = st.from_regex(r"[1-6][0-9]{5}", fullmatch=True)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2010, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
valid_ids = st.builds(make_id_number, regions, births, sequences)
ALPHABET = "0123456789X"


@given(regions, births, sequences)
def test_every_generated_id_passes_with_its_birth_date_and_sex(region, born, sequence):
    parsed = parse_id_number(make_id_number(region, born, sequence))
    assert parsed.birth_date == born
    assert parsed.sex == ("M" if sequence % 2 else "F")


@given(valid_ids, st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET))
def test_every_single_character_change_fails(value, position, replacement):
    assume(value[position] != replacement)
    changed = value[:position] + replacement + value[position + 1 :]
    with pytest.raises(IdNumberError):
        parse_id_number(changed)


@given(valid_ids)
def test_lower_case_x_and_full_width_digits_are_normalised(value):
    typed = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in value)
    assert parse_id_number(typed).value == value


def test_domain_examples_pass():
    assert parse_id_number("11010519491231002x").value == "11010519491231002X"
    assert parse_id_number("440524188001010014").sex == "M"
    assert check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "checksum"),
        (make_id_number("141024", date(1990, 1, 1), 1)[:10] + "0230" + "0010", "birth_date"),
        ("14102419900230001" + check_char("14102419900230001"), "birth_date"),
        ("1410241990010100", "format"),
        ("14102419900101001Y", "format"),
    ],
)
def test_wrong_ids_are_refused_with_a_reason(value, code):
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(value)
    assert caught.value.code == code


def test_birth_date_in_the_future_is_refused():
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(make_id_number("141024", date(2099, 1, 1), 1))
    assert caught.value.code == "birth_date"


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "8613800138000",
        "１３８００１３８０００",
    ],
)
def test_mobile_numbers_are_stored_in_e164(raw):
    assert normalise_mobile(raw) == "+8613800138000"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0357-2345678", "not_mobile"),
        ("03572345678", "not_mobile"),
        ("12345678901", "format"),
        ("1380013800", "format"),
        ("not a number", "format"),
        ("+1 415 555 2671", "format"),
    ],
)
def test_landlines_and_non_numbers_are_refused(raw, code):
    with pytest.raises(PhoneError) as caught:
        normalise_mobile(raw)
    assert caught.value.code == code


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_accepted_mobile_round_trips(raw):
    try:
        e164 = normalise_mobile(raw)
    except PhoneError:
        return  # an unallocated prefix: refusing it is right
    assert e164 == "+86" + raw
    assert normalise_mobile(e164) == e164


def test_masks_keep_only_the_edges():
    assert mask_id_number("141024199005010018") == "1410**********0018"
    assert mask_phone("+8613800138000") == "138****8000"
