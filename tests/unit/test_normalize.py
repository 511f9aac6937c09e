"""Group labels, phones, names and pinyin."""

from __future__ import annotations

import pytest

from sync.normalize import (
    chinese_number,
    name_pinyin,
    normalize_group,
    normalize_name,
    normalize_phone,
    phone_error,
)


@pytest.mark.parametrize("label", ["3组", "三组", "第三村民小组", "第3组", "03组", "三队", "３组", " 3 组 ", "第三小组"])
def test_group_three_in_every_spelling(label: str) -> None:
    assert normalize_group(label) == "3组"


@pytest.mark.parametrize(("label", "expected"), [("十二组", "12组"), ("二十组", "20组"), ("第二十三村民小组", "23组"), ("新村组", "新村组")])
def test_other_groups(label: str, expected: str) -> None:
    assert normalize_group(label) == expected


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("一", "十", "十一", "二十", "九十九", "x")] == [1, 10, 11, 20, 99, None]


@pytest.mark.parametrize(("raw", "expected"), [("+86 138 1234 5678", "13812345678"), ("０７１４ ８７６５４３２", "0714-8765432"), ("0714-8765432", "0714-8765432")])
def test_phone_normalisation(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    assert phone_error(expected) is None


@pytest.mark.parametrize("bad", ["1381234567", "23812345678", "12345"])
def test_bad_phones(bad: str) -> None:
    assert phone_error(normalize_phone(bad)) is not None


def test_names_full_width_spaces_and_traditional() -> None:
    assert normalize_name("劉 偉") == "刘伟"
    assert normalize_name("阿依•古丽") == "阿依·古丽"


def test_pinyin_and_initials() -> None:
    assert name_pinyin("王建国") == ("wang jian guo", "wjg")
    assert name_pinyin("刘伟")[1] == "lw"


@pytest.mark.parametrize(("name", "expected"), [
    ("张长忠", "zhang chang zhong"), ("曾国藩", "zeng guo fan"), ("单田芳", "shan tian fang"),
    ("尉迟恭", "yu chi gong"), ("欧阳娜娜", "ou yang na na"), ("阿依·古丽", "a yi gu li"),
])
def test_names_are_read_as_names(name: str, expected: str) -> None:
    assert name_pinyin(name)[0] == expected
