"""The dedup engine's newer parts: the gazetteer, name keys and levels, the weights fitted by
EM, the links kept consistent as households, and the bulk run finding what they allow."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter

import pytest

from sync.dedup import HouseholdRecord, find_duplicates, match_one
from sync.dedup.bulk import BulkStats, PairMatch
from sync.dedup.compare import CAPPED, COMPARISONS, LEVELS, NO_EVIDENCE_FOR, compare, id_relation
from sync.dedup.fit import fit_weights
from sync.dedup.gazetteer import Gazetteer
from sync.dedup.links import keep_consistent
from sync.dedup.prepare import name_keys, prepare
from sync.dedup.score import DEFAULT_WEIGHTS, Weights
from sync.dedup.weights import table
from sync.idnumber import is_valid_id, make_id
from sync.normalize import normalize_group

YEAR = 2023
HEAD_ID = make_id("420281", dt.date(1968, 3, 14), 213)
BASE = HouseholdRecord(id="roster-1", village_id=7, head_name="贺善银", head_id=HEAD_ID,
                       phone="13812345678", group="3组", hamlet="王祖湾", size=4, town_id=1)


def copy(**changes: object) -> HouseholdRecord:
    changes.setdefault("id", "new-1")
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def evidence_of(record: HouseholdRecord, other: HouseholdRecord = BASE) -> list[str]:
    [candidate] = match_one(record, [other], reference_year=YEAR)
    return candidate.evidence


# --- the gazetteer -------------------------------------------------------------------

def test_gazetteer_maps_each_way_of_writing_a_village_to_its_most_frequent_spelling() -> None:
    gazetteer = Gazetteer({"沼山村": 40, "沼山村委会": 6, "保安镇沼山村": 3, "沼山": 2, "沼杉村": 1,
                           "大乡镇鹤港村": 4, "鹤港村": 9, "磨山村": 30, "李家镇新村": 2})
    for spelling in ("沼山村委会", "保安镇沼山村", "沼山", "沼杉村", " 沼山村 "):
        assert gazetteer.canonical(spelling) == "沼山村", spelling
    assert gazetteer.canonical("大乡镇鹤港村") == "鹤港村"  # the town itself holds a 乡
    assert gazetteer.canonical("磨山村") == "磨山村"
    assert gazetteer.canonical("李家镇新村") == "李家镇新村"  # nothing called 新村 without the town
    assert len(gazetteer) == 4


def test_a_bare_number_is_a_group() -> None:
    assert normalize_group("3") == normalize_group(" 03 ") == normalize_group("第三组") == "3组"
    assert normalize_group("0") == "0"


# --- names ---------------------------------------------------------------------------

def test_name_keys_meet_swapped_and_one_character_typos_but_not_two_character_names() -> None:
    assert set(name_keys("孟金晨")) & set(name_keys("孟全晨"))  # one character wrong
    assert set(name_keys("贺善银")) & set(name_keys("贺银善"))  # given name swapped
    assert set(name_keys("周孝华")) & set(name_keys("周华"))  # one character dropped
    assert name_keys("刘伟") == ("liu wei",)
    assert not set(name_keys("孟金晨")) & set(name_keys("孟志强"))


def test_swapped_given_name_under_one_id_is_the_same_household() -> None:
    assert "姓名字序颠倒（贺银善/贺善银）" in evidence_of(copy(head_name="贺银善"))


def test_swapped_given_name_without_an_id_is_found_by_the_bulk_run() -> None:
    records = [BASE, copy(head_name="贺银善", head_id="", phone=None)]
    [pair] = find_duplicates(records, reference_year=YEAR)
    assert "姓名字序颠倒（贺善银/贺银善）" in pair.evidence


def test_dropped_character_without_an_id_is_met_by_the_bulk_run_as_a_similar_name() -> None:
    records = [copy(id="a", head_name="周孝华"), copy(id="b", head_name="周华", head_id="")]
    stats = BulkStats()
    find_duplicates(records, reference_year=YEAR, stats=stats)
    assert stats.pairs_scored == 1
    levels = compare(prepare(records[0]), prepare(records[1]), YEAR)
    assert levels is not None and LEVELS["name"][levels[COMPARISONS.index("name")]] == "similar"


def test_two_character_name_with_another_given_name_and_no_id_link_is_never_proposed() -> None:
    one, other = prepare(copy(head_name="刘伟", head_id="")), prepare(copy(id="x", head_name="刘强"))
    levels = compare(one, other, YEAR)
    assert levels is not None and levels[-1] == CAPPED
    assert find_duplicates([copy(id="a", head_name="刘伟", head_id=""), copy(id="b", head_name="刘强")]) == []


# --- ID numbers, phones, hamlets -----------------------------------------------------

@pytest.mark.parametrize("cut", [HEAD_ID[:17], HEAD_ID[:16], HEAD_ID[:14]])
def test_a_truncated_id_number_is_read_as_the_same_number(cut: str) -> None:
    assert id_relation(prepare(copy(head_id=cut)), prepare(BASE)) == "truncated"
    assert "身份证号不全（前面各位相同）" in evidence_of(copy(head_id=cut))


def test_a_truncated_number_meets_its_number_in_another_village_by_region_and_birth_date() -> None:
    records = [BASE, copy(head_id=HEAD_ID[:16], village_id=99, phone=None)]
    assert [(p.a, p.b) for p in find_duplicates(records, reference_year=YEAR)] == [(0, 1)]


def test_a_one_digit_slip_in_the_phone_is_evidence_not_a_difference() -> None:
    slipped = copy(head_id="", phone="13812345679")
    assert "电话相差一位（疑似录入错误）" in evidence_of(slipped)
    levels = compare(prepare(slipped), prepare(BASE), YEAR)
    assert levels is not None and LEVELS["phone"][levels[COMPARISONS.index("phone")]] == "typo"


@pytest.mark.parametrize("hamlet", ["王祖", "王祖村", "王祖塆"])
def test_a_hamlet_with_another_ending_is_the_same_hamlet(hamlet: str) -> None:
    found = evidence_of(copy(head_id="", hamlet=hamlet))
    assert any(text.startswith("同湾") for text in found), found


# --- weights fitted by EM ------------------------------------------------------------

TRUE_M = {"id": {"exact": 0.55, "same_invalid": 0.01, "typo": 0.1, "edit": 0.02, "near": 0.01, "missing": 0.3,
                 "unknown": 0.01},
          "name": {"same": 0.6, "sound": 0.2, "swapped": 0.04, "similar": 0.1, "given": 0.05, "different": 0.01},
          "village": {"same": 0.965, "different": 0.03, "missing": 0.005},
          "town": {"same": 0.992, "different": 0.004, "missing": 0.004},
          "group": {"same": 0.85, "different": 0.12, "missing": 0.03},
          "hamlet": {"same": 0.6, "variant": 0.25, "different": 0.02, "missing": 0.13},
          "phone": {"same": 0.55, "typo": 0.08, "different": 0.12, "missing": 0.25},
          "size": {"same": 0.72, "near": 0.2, "far": 0.05, "missing": 0.03}}
"""One household's level probabilities, none of them speaking for a match where it
cannot (NO_EVIDENCE_FOR), kin and other as the defaults have them."""


def _sample(rng: random.Random, weights: Weights, kind: int) -> tuple[int, ...]:
    rows = (weights.m, weights.kin, weights.other)[kind]
    return (*(rng.choices(range(len(row)), weights=row)[0] for row in rows), 0)


def test_em_recovers_the_weights_a_roster_was_drawn_from() -> None:
    truth = dataclasses.replace(DEFAULT_WEIGHTS, m=table(TRUE_M), prior=0.3, kin_share=0.4)
    rng = random.Random(5)
    patterns: Counter[tuple[int, ...]] = Counter()
    for _ in range(30_000):
        roll = rng.random()
        kind = 0 if roll < truth.prior else 1 if roll < truth.prior + (1 - truth.prior) * truth.kin_share else 2
        patterns[_sample(rng, truth, kind)] += 1
    fitted = fit_weights(patterns, DEFAULT_WEIGHTS)
    assert fitted.fitted_on == 30_000
    assert abs(fitted.prior - truth.prior) < 0.03
    name = COMPARISONS.index("name")
    given = LEVELS["name"].index("given")
    assert abs(fitted.m[name][given] - 0.05) < 0.015  # the default says ~0: the roster says otherwise
    for k, comparison in enumerate(COMPARISONS):
        for j, level in enumerate(LEVELS[comparison]):
            assert abs(fitted.m[k][j] - truth.m[k][j]) < 0.03, (comparison, level)


def test_em_never_makes_a_disagreement_speak_for_a_match() -> None:
    # Pairs of one household that met through a shared phone across villages: the
    # blocking makes "different village" common among them.
    truth = dataclasses.replace(DEFAULT_WEIGHTS, m=table({**TRUE_M, "village": {"same": 0.5, "different": 0.5,
                                                                               "missing": 0.0001}}))
    rng = random.Random(6)
    patterns = Counter(_sample(rng, truth, 0 if rng.random() < 0.4 else 2) for _ in range(20_000))
    fitted = fit_weights(patterns, DEFAULT_WEIGHTS)
    share = fitted.kin_share
    for k, comparison in enumerate(COMPARISONS):
        for j, level in enumerate(LEVELS[comparison]):
            if level in NO_EVIDENCE_FOR[comparison]:
                two = share * fitted.kin[k][j] + (1 - share) * fitted.other[k][j]
                assert fitted.m[k][j] <= two + 1e-9, (comparison, level)


def test_a_small_roster_keeps_the_default_weights() -> None:
    assert fit_weights(Counter({(0, 0, 0, 0, 0, 0, 0, 0, 2): 50}), DEFAULT_WEIGHTS) is DEFAULT_WEIGHTS


def test_the_bulk_run_learns_that_a_given_name_under_one_id_is_a_typo() -> None:
    """Default weights read 刘伟/刘强 under one number as a relative's number; a roster
    where that is how typos look teaches the run otherwise."""
    given = "伟强军华明平东兵勇峰"
    records: list[HouseholdRecord] = []
    for n in range(2400):
        name = "刘" + given[n % 10]
        record = HouseholdRecord(id=f"h{n}", village_id=n % 30, head_name=name,
                                 head_id=make_id("420281", dt.date(1950, 1, 1) + dt.timedelta(days=n), 11),
                                 phone=f"139{n:08d}", group=f"{n % 9 + 1}组", hamlet="王祖湾", size=3, town_id=1)
        typo = "刘" + given[(n + 1) % 10] if n % 3 == 0 else name  # a third typed with the given name wrong
        records += [record, dataclasses.replace(record, id=f"c{n}", head_name=typo)]
    assert find_duplicates(records[:6], reference_year=YEAR) == find_duplicates(records[:6], fit=False)
    assert not any(records[p.a].id == "h0" for p in find_duplicates(records[:6], reference_year=YEAR))
    stats = BulkStats()
    pairs = {(records[p.a].id, records[p.b].id) for p in find_duplicates(records, stats=stats, reference_year=YEAR)}
    assert stats.weights is not None and stats.weights.fitted_on == 2400
    typos = {(f"h{n}", f"c{n}") for n in range(0, 2400, 3)}
    assert typos <= pairs


# --- links kept consistent -----------------------------------------------------------

def test_a_record_without_an_id_goes_with_the_person_it_matches_best() -> None:
    father = copy(id="father", head_name="刘伟")
    son = copy(id="son", head_name="刘伟", head_id=make_id("420281", dt.date(1994, 8, 30), 17))
    loose = copy(id="loose", head_name="刘伟", head_id="")
    records = [father, son, loose]
    pairs = [PairMatch(0, 2, 0.9), PairMatch(1, 2, 0.8)]
    assert keep_consistent(records, pairs) == [pairs[0]]
    tied = [PairMatch(0, 2, 0.8), PairMatch(1, 2, 0.8)]
    assert keep_consistent(records, tied) == []  # nothing says which


def test_no_single_typo_turns_a_valid_number_into_another() -> None:
    """Why two valid numbers are never one household, the last two characters included."""
    for sequence in range(1, 400):
        number = make_id("420281", dt.date(1970, 5, 5), sequence)
        tail_swap = number[:16] + number[17] + number[16]
        slips = [number[:i] + d + number[i + 1:] for i in range(17) for d in "0123456789" if d != number[i]]
        slips += [number[:i] + number[i + 1] + number[i] + number[i + 2:] for i in range(17)]
        assert not any(is_valid_id(v) for v in [*slips, tail_swap] if v != number), number


def test_check_and_run_pairs_are_consistent_but_single_pairs_are_scored_alone() -> None:
    father = copy(id="father", head_name="刘伟")
    son = copy(id="son", head_name="刘伟", head_id=make_id("420281", dt.date(1994, 8, 30), 17))
    loose = copy(id="loose", head_name="刘伟", head_id="")
    assert len(find_duplicates([father, son, loose], reference_year=YEAR)) == 2
    assert find_duplicates([father, son, loose], reference_year=YEAR, consistent=True) == []
