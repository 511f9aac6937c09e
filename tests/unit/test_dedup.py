"""The dedup engine one pair at a time: each error kind is found, each hard negative is not."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sync.dedup import HouseholdRecord, blocking_keys, find_duplicates, match_one
from sync.dedup.idtypos import typo_neighbours
from sync.dedup.prepare import INVALID18, MISSING, OTHER, UPGRADED, VALID, classify_id, prepare
from sync.dedup.score import DEFAULT_WEIGHTS, id_relation, score_pair
from sync.idnumber import is_valid_id, make_id
from tests.dedup.synth import full_width

YEAR = 2023
HEAD_ID = make_id("420281", dt.date(1968, 3, 14), 213)  # 420281196803142137-like, valid
BASE = HouseholdRecord(id="roster-1", village_id=7, head_name="刘伟", head_id=HEAD_ID,
                       phone="13812345678", group="3组", hamlet="王祖湾", size=4, town_id=1)


def copy(**changes: object) -> HouseholdRecord:
    changes.setdefault("id", "new-1")
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def match(record: HouseholdRecord, other: HouseholdRecord = BASE) -> list:
    return match_one(record, [other], reference_year=YEAR)


def substitute(value: str, position: int) -> str:
    digit = "0123456789"[(int(value[position]) + 3) % 10]
    return value[:position] + digit + value[position + 1:]


def swap(value: str, position: int) -> str:
    return value[:position] + value[position + 1] + value[position] + value[position + 2:]


# --- normalisation -----------------------------------------------------------------

@pytest.mark.parametrize(("raw", "state"), [
    (HEAD_ID, VALID),
    (full_width(HEAD_ID), VALID),
    (f" {HEAD_ID[:6]} {HEAD_ID[6:14]} {HEAD_ID[14:]} ", VALID),
    (substitute(HEAD_ID, 9), INVALID18),
    (HEAD_ID[:6] + HEAD_ID[8:17], UPGRADED),
    ("4.20281E+17", OTHER),
    ("", MISSING),
    (None, MISSING),
])
def test_id_numbers_are_classified(raw: object, state: int) -> None:
    assert classify_id(raw)[2] == state


def test_lower_case_x_is_upper_cased_and_valid() -> None:
    value = next(make_id("420281", dt.date(1970, 1, 1), s) for s in range(1000)
                 if make_id("420281", dt.date(1970, 1, 1), s).endswith("X"))
    assert classify_id(value.lower()) == (value, value, VALID)


def test_old_15_digit_number_is_upgraded_to_its_18_digit_form() -> None:
    old = HEAD_ID[:6] + HEAD_ID[8:17]
    assert classify_id(old) == (HEAD_ID, old, UPGRADED)


def test_names_groups_hamlets_and_phones_are_normalised() -> None:
    p = prepare(copy(head_name="劉 偉", group="第三村民小组", hamlet="王祖塆", phone="+86 138 1234 5678"))
    q = prepare(BASE)
    assert (p.name, p.group, p.hamlet, p.phone) == (q.name, q.group, q.hamlet, q.phone)
    assert prepare(copy(group="三队")).group == "3组"


def test_heteronym_surnames_keep_every_reading() -> None:
    p = prepare(copy(head_name="曾伟"))
    assert p.readings[0] == {"zeng", "ceng"}
    assert {"zeng wei", "ceng wei"} <= set(p.sounds)


# --- error kinds that must be found ------------------------------------------------

@pytest.mark.parametrize(("kind", "changes", "evidence"), [
    ("plain re-report", {}, "身份证号相同"),
    ("homophone given name", {"head_name": "刘炜"}, "姓名拼音相同（liu wei）"),
    ("homophone surname", {"head_name": "柳伟"}, "姓名拼音相同（liu wei）"),
    ("ID one substitution", {"head_id": substitute(HEAD_ID, 10)}, "身份证号相差一位（疑似录入错误）"),
    ("ID wrong check character", {"head_id": HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")},
     "身份证号相差一位（疑似录入错误）"),
    ("ID adjacent swap", {"head_id": swap(HEAD_ID, 14)}, "身份证号相邻两位颠倒（疑似录入错误）"),
    ("group 三组", {"group": "三组"}, "同村同组"),
    ("group 第三村民小组", {"group": "第三村民小组"}, "同村同组"),
    ("group 三队", {"group": "三队"}, "同村同组"),
    ("full-width ID and phone", {"head_id": full_width(HEAD_ID), "phone": full_width("13812345678")},
     "电话相同"),
    ("spaces in the name", {"head_name": "刘 伟"}, "姓名相同（刘伟）"),
    ("traditional characters", {"head_name": "劉偉", "hamlet": "王祖灣"}, "同湾（王祖湾）"),
    ("missing phone", {"phone": None}, "身份证号相同"),
    ("old 15-digit ID", {"head_id": HEAD_ID[:6] + HEAD_ID[8:17]}, "15位旧身份证号与18位号码一致"),
    ("塆 for 湾", {"hamlet": "王祖塆"}, "同湾（王祖湾）"),
    ("homophone hamlet", {"hamlet": "王组湾"}, "湾名读音相同（王组湾/王祖湾）"),
])
def test_error_kind_is_found(kind: str, changes: dict[str, object], evidence: str) -> None:
    found = match(copy(**changes))
    assert [c.other_id for c in found] == ["roster-1"], kind
    assert evidence in found[0].evidence, (kind, found[0].evidence)
    assert found[0].score >= DEFAULT_WEIGHTS.threshold


@pytest.mark.parametrize("changes", [
    {"head_name": "刘炜"}, {"head_name": "劉偉"}, {"head_name": "刘　伟"}, {"group": "第三村民小组"},
    {"group": "三队", "hamlet": "王祖塆"}, {"phone": None, "hamlet": "王组湾"},
])
def test_without_an_id_the_name_and_place_variants_still_match(changes: dict[str, object]) -> None:
    found = match(copy(head_id="", **changes))
    assert [c.other_id for c in found] == ["roster-1"]


def test_exact_valid_id_in_the_same_town_is_near_certain() -> None:
    [candidate] = match(copy(phone=None, group="5组", size=2))
    assert candidate.exact_id is True
    assert candidate.score >= 0.97


def test_exact_id_in_another_town_is_a_candidate_but_not_one_tap() -> None:
    [candidate] = match(copy(town_id=2, village_id=99))
    assert candidate.exact_id is False
    assert "不同乡镇" in candidate.evidence


@pytest.mark.parametrize(("surname", "homophone", "reading"), [
    ("单", "善", "shan"),  # 单 defaults to dan; as a surname it is shan
    ("解", "谢", "xie"),   # 解 defaults to jie; as a surname it is xie
    ("曾", "增", "ceng"),
])
def test_heteronym_surname_is_matched_on_its_other_reading(surname: str, homophone: str,
                                                            reading: str) -> None:
    # The ID is missing, so the name carries the match.
    roster = copy(id="roster-2", head_name=f"{surname}伟", head_id="")
    found = match_one(copy(head_name=f"{homophone}伟", head_id=""), [roster], reference_year=YEAR)
    assert found and f"姓名读音相同（多音字，{reading} wei）" in found[0].evidence


def test_missing_id_is_matched_on_name_and_place() -> None:
    [candidate] = match(copy(head_id=""))
    assert "一方未填身份证号" in candidate.evidence
    assert candidate.exact_id is False


def test_spreadsheet_mangled_id_is_matched_not_refused() -> None:
    found = match(copy(head_id="4.20281E+17"))
    assert found and "身份证号格式错误，无法比对" in found[0].evidence


# --- hard negatives that must never be proposed ------------------------------------

def test_family_members_sharing_surname_hamlet_and_phone_are_not_proposed() -> None:
    brother = copy(head_name="刘强", head_id=make_id("420281", dt.date(1971, 6, 2), 35))
    assert match(brother) == []


def test_twins_whose_ids_differ_only_in_sequence_digits_are_not_proposed() -> None:
    twin_id = HEAD_ID[:14] + f"{int(HEAD_ID[14:17]) + 2:03d}"
    twin_id = make_id(twin_id[:6], dt.date(1968, 3, 14), int(twin_id[14:17]))
    assert twin_id[:14] == HEAD_ID[:14] and is_valid_id(twin_id)
    twin = copy(head_name="刘伟", head_id=twin_id)  # even the same name
    assert match(twin) == []
    assert id_relation(prepare(twin), prepare(BASE)) == "distinct_valid"


def test_father_and_son_with_the_same_name_in_the_same_hamlet_are_not_proposed() -> None:
    son = copy(head_id=make_id("420281", dt.date(1994, 8, 30), 17))
    assert match(son) == []


def test_father_typo_against_son_is_not_proposed() -> None:
    # The father's number carries a typo (invalid); the son's is valid: far apart.
    son = copy(id="son", head_id=make_id("420281", dt.date(1994, 8, 30), 17))
    father_typo = copy(head_id=substitute(HEAD_ID, 16))
    assert match_one(father_typo, [son], reference_year=YEAR) == []


def test_relatives_id_with_a_clearly_different_name_is_evidence_against() -> None:
    # A son's own household recorded with his father's ID number.
    son = copy(head_name="刘强")
    match_ = score_pair(prepare(son), prepare(BASE), reference_year=YEAR)
    assert match_ is not None and match_.score < DEFAULT_WEIGHTS.threshold
    assert "身份证号相同或相近但姓名明显不同（疑似填了亲属的证件号）" in match_.evidence
    assert match(son) == []


def test_an_impossible_birth_year_for_a_householder_is_evidence_against() -> None:
    child_id = make_id("420281", dt.date(2015, 5, 1), 18)
    one, other = copy(head_id=child_id), copy(id="roster-9", head_id=child_id)
    match_ = score_pair(prepare(one), prepare(other), reference_year=YEAR)
    assert match_ is not None and match_.score < DEFAULT_WEIGHTS.threshold
    assert "证件出生年份（2015年）不可能是户主（疑似填了亲属的证件号）" in match_.evidence
    assert match_one(one, [other], reference_year=YEAR) == []


def test_two_distinct_valid_ids_are_never_proposed_whatever_else_agrees() -> None:
    other_id = make_id("420281", dt.date(1968, 3, 15), 213)
    assert match(copy(head_id=other_id)) == []


def test_different_people_without_ids_and_different_names_are_not_proposed() -> None:
    assert match(copy(head_name="陈秀英", head_id=""), copy(id="roster-1", head_id="")) == []


# --- blocking ----------------------------------------------------------------------

def test_blocking_keys_cover_every_field_the_store_uses() -> None:
    keys = blocking_keys(copy(head_name="曾伟", phone="138 1234 5678"))
    assert HEAD_ID in keys.head_ids
    assert HEAD_ID[:6] + HEAD_ID[8:17] in keys.head_ids  # the old 15-digit form
    assert keys.id_prefixes == {HEAD_ID[:14]}
    assert keys.village_surnames == {(7, "zeng"), (7, "ceng")}
    assert keys.phones == {"13812345678"}


def test_blocking_keys_of_a_typo_include_the_valid_number_it_came_from() -> None:
    typo = swap(HEAD_ID, 8)
    assert HEAD_ID in blocking_keys(copy(head_id=typo)).head_ids


def test_typo_neighbours_of_a_substitution_contain_the_original() -> None:
    for position in range(17):
        neighbours = typo_neighbours(substitute(HEAD_ID, position))
        assert HEAD_ID in neighbours
        assert all(is_valid_id(n) or n[6:14] != HEAD_ID[6:14] for n in neighbours)


def test_match_one_returns_best_first_and_skips_itself() -> None:
    weaker = copy(id="roster-2", head_id=substitute(HEAD_ID, 12), phone=None)
    found = match_one(copy(), [BASE, weaker, copy()], reference_year=YEAR)
    assert [c.other_id for c in found] == ["roster-1", "roster-2"]
    assert found[0].score >= found[1].score


def test_bulk_run_agrees_with_match_one_on_a_small_roster() -> None:
    records = [
        BASE,
        copy(id="r2", head_id=substitute(HEAD_ID, 10), head_name="刘炜"),
        copy(id="r3", head_name="刘伟", head_id=make_id("420281", dt.date(1994, 8, 30), 17)),  # son
        copy(id="r4", head_name="刘强", head_id=make_id("420281", dt.date(1971, 6, 2), 35)),   # brother
        copy(id="r5", head_name="劉偉", head_id="", group="三队"),
    ]
    pairs = {(records[p.a].id, records[p.b].id) for p in find_duplicates(records, reference_year=YEAR)}
    expected = set()
    for i, record in enumerate(records):
        for candidate in match_one(record, records[i + 1:], reference_year=YEAR):
            expected.add((record.id, candidate.other_id))
    assert pairs == expected
    assert ("roster-1", "r2") in pairs and ("roster-1", "r5") in pairs
    assert not any("r3" in pair and "roster-1" in pair for pair in pairs)
    assert not any("r4" in pair for pair in pairs)


def test_relatives_id_with_two_different_characters_is_evidence_against_even_if_one_sounds_alike() -> None:
    roster = copy(id="roster-3", head_name="石香荣")
    relative = copy(head_name="石祥发", phone="13900000000", size=6)
    assert match_one(relative, [roster], reference_year=YEAR) == []


def test_exact_id_with_one_character_different_is_proposed_but_not_as_one_tap() -> None:
    roster = copy(id="roster-3", head_name="刘建国")
    [candidate] = match_one(copy(head_name="刘建军"), [roster], reference_year=YEAR)
    assert candidate.exact_id is False
    assert candidate.score < 0.97
    assert "姓名相近（刘建军/刘建国）" in candidate.evidence


def test_excel_zeroed_tail_is_a_format_error_not_a_typo() -> None:
    zeroed = HEAD_ID[:15] + "000"  # what Excel keeps of an 18-digit number
    assert classify_id(zeroed)[2] == OTHER
    found = match(copy(head_id=zeroed))
    assert found and "身份证号格式错误，无法比对" in found[0].evidence


def test_relatives_id_with_a_name_of_another_length_is_evidence_against() -> None:
    roster = copy(id="roster-3", head_name="邵建")
    assert match_one(copy(head_name="邵金安", phone=None), [roster], reference_year=YEAR) == []
