"""ID numbers (GB 11643-1999): checks, normalisation, masking."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.idnumber import (
    birth_date,
    check_char,
    looks_excel_mangled,
    make_id,
    mask_id,
    mask_phone,
    upgrade_15_to_18,
    validate_id,
)

VALID = "11010519491231002X"  # the check character of this published example is X


def test_check_character_x() -> None:
    assert check_char(VALID[:17]) == "X"
    assert validate_id(VALID).ok


def test_lower_case_x_is_accepted_and_stored_upper() -> None:
    result = validate_id(VALID.lower())
    assert result.ok
    assert result.value == VALID


def test_full_width_digits_are_normalised() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in VALID)
    result = validate_id(full_width)
    assert result.ok and result.value == VALID


def test_spaces_are_ignored() -> None:
    assert validate_id("110105 19491231 002X").ok


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写身份证号"),
        ("42028119700501123", "身份证号应为18位，现为17位"),
        ("4202811970050112A5", "前17位应为数字"),
        ("42028119990230123X", "出生日期无效"),  # 30 February
        ("420281" + "20990101" + "0015", "出生日期无效"),  # born in the future
        (VALID[:17] + "1", "校验位错误"),
    ],
)
def test_invalid_ids_have_chinese_messages(raw: str, message: str) -> None:
    result = validate_id(raw, today=dt.date(2023, 10, 1))
    assert not result.ok
    assert message in (result.error or "")


def test_19990230_is_not_a_date_even_with_right_checksum() -> None:
    first17 = "42028119990230123"
    assert not validate_id(first17 + check_char(first17)).ok


@pytest.mark.parametrize("raw", [4.20281197005011e17, 420281197005011235, "4.20281E+17", "420281197005010000.0"])
def test_excel_mangled_ids_are_caught(raw: object) -> None:
    assert looks_excel_mangled(raw)
    result = validate_id(raw)
    assert not result.ok and "Excel" in (result.error or "")


def test_make_id_is_valid_and_encodes_birth_date() -> None:
    value = make_id("420281", dt.date(1980, 2, 29), 37)
    assert validate_id(value).ok
    assert birth_date(value) == dt.date(1980, 2, 29)


def test_old_15_digit_ids_upgrade() -> None:
    upgraded = upgrade_15_to_18("420281800229037")
    assert upgraded is not None and validate_id(upgraded).ok
    assert upgraded.startswith("42028119800229037")


def test_masking() -> None:
    assert mask_id("420281197005011235") == "420281********1235"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id(None) == "" and mask_phone("") == ""
