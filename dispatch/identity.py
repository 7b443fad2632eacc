"""Resident ID numbers (GB 11643-1999) and mainland mobile numbers."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


class IdNumberError(ValueError):
    """Why an ID number is not valid; ``code`` picks the message shown to people."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class IdNumber:
    value: str  # 18 characters, upper-case X
    birth_date: date
    sex: str  # "M" or "F"


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalise_id_number(raw: str) -> str:
    """Full-width digits to ASCII (NFKC), spaces removed, x upper-cased."""
    return unicodedata.normalize("NFKC", raw).replace(" ", "").strip().upper()


def parse_id_number(raw: str) -> IdNumber:
    """Validate a resident ID number; region codes are not checked (old codes stay valid)."""
    value = normalise_id_number(raw)
    if len(value) != 18 or not value[:17].isdecimal() or not value[:17].isascii():
        raise IdNumberError("format")
    if value[17] not in "0123456789X":
        raise IdNumberError("format")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError("birth_date") from None
    if born > date.today():
        raise IdNumberError("birth_date")
    if check_char(value[:17]) != value[17]:
        raise IdNumberError("checksum")
    return IdNumber(value, born, "M" if int(value[16]) % 2 else "F")


def make_id_number(region: str, born: date, sequence: int) -> str:
    """Build a valid ID number (for demo data and tests)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


class PhoneError(ValueError):
    """Why a phone number cannot receive SMS; ``code`` picks the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalise_mobile(raw: str) -> str:
    """A mainland China mobile number in E.164 (+8613800138000); landlines are refused."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        number = phonenumbers.parse(text, "CN")
    except NumberParseException:
        raise PhoneError("format") from None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise PhoneError("format")
    if phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
        raise PhoneError("not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_id_number(value: str) -> str:
    """1410**********1234: region prefix and last four only."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(e164: str) -> str:
    """138****8000 for +8613800138000."""
    national = e164[3:] if e164.startswith("+86") else e164
    return national[:3] + "****" + national[-4:] if len(national) >= 8 else "*" * len(national)
