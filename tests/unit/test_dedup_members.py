"""A householder who is a member of another household (sync/dedup/members.py): at ingest and in
``dedup run``."""

from __future__ import annotations

from sync.dedup import HouseholdRecord, PairMatch
from sync.dedup.bulk import MAX_EXACT_GROUP
from sync.dedup.match import Candidate
from sync.dedup.members import (
    MEMBER_SCORE,
    MemberOf,
    MemberRow,
    with_member_links,
    with_member_pairs,
)


def test_a_member_link_makes_a_candidate_with_its_evidence() -> None:
    [candidate] = with_member_links([], "new", [MemberOf("h1", "王小明", "child")], {"child": "子女"}.get)
    assert candidate.other_id == "h1" and candidate.score == MEMBER_SCORE
    assert candidate.evidence == ["新户主是已有户的家庭成员（王小明，与户主关系：子女）"]


def test_evidence_is_added_to_a_pair_found_already_and_the_score_kept_if_higher() -> None:
    found = [Candidate("h1", 0.97, ["姓名拼音相同"]), Candidate("h2", 0.5, ["同村"])]
    result = with_member_links(found, "new", [MemberOf("h1", "王小明", "child"), MemberOf("h2", "李四", "spouse")])
    by_id = {c.other_id: c for c in result}
    assert by_id["h1"].score == 0.97 and len(by_id["h1"].evidence) == 2
    assert by_id["h2"].score == MEMBER_SCORE
    assert [c.other_id for c in result] == ["h1", "h2"]


def test_its_own_householder_and_itself_are_no_evidence() -> None:
    assert with_member_links([], "new", [MemberOf("h1", "王建国", "self"), MemberOf("new", "王小明", "child")]) == []


# -- the bulk run (fieldapp dedup run) ---------------------------------------------------

def _records(*heads: tuple[str, str, str]) -> list[HouseholdRecord]:
    return [HouseholdRecord(hid, 1, name, head_id) for hid, name, head_id in heads]


def test_a_bulk_run_pairs_a_householder_with_the_household_listing_him() -> None:
    records = _records(("h1", "王建国", "A"), ("h2", "李四", "B"), ("h3", "王小明", "C"))
    members = [MemberRow("h1", "王建国", "A", "self"), MemberRow("h1", "王小明", "C", "child"),
               MemberRow("h2", "无关", "Z", "other")]
    [found] = with_member_pairs([], records, members, {"child": "子女", "self": "本人"}.get)
    assert (found.a, found.b, found.score, found.member, found.exact_id) == (0, 2, MEMBER_SCORE, True, False)
    assert found.evidence == ["新户主是已有户的家庭成员（王小明，与户主关系：子女）"]


def test_a_bulk_pair_found_already_gains_the_evidence_and_at_least_the_member_score() -> None:
    records = _records(("h1", "王建国", "A"), ("h2", "李四", "B"), ("h3", "王小明", "C"))
    strong, weak = PairMatch(0, 2, 0.97, ["姓名拼音相同"]), PairMatch(1, 2, 0.6, ["同村"])
    members = [MemberRow("h1", "王小明", "C", "child"), MemberRow("h2", "王小明", "C", "other"),
               MemberRow("h2", "王小明", "C", "other")]  # listed twice: one evidence
    result = with_member_pairs([strong, weak], records, members, {"child": "子女", "other": "其他"}.get)
    assert [(p.a, p.b) for p in result] == [(0, 2), (1, 2)]
    assert strong.score == 0.97 and strong.evidence[-1].endswith("与户主关系：子女）") and len(strong.evidence) == 2
    assert weak.score == MEMBER_SCORE and len(weak.evidence) == 2 and weak.member


def test_a_bulk_run_skips_own_householders_unknown_households_and_placeholder_numbers() -> None:
    records = _records(*[(f"h{i}", "某某", "000000000000000000") for i in range(MAX_EXACT_GROUP + 1)],
                       ("x", "王建国", "A"), ("y", "王小明", "C"))
    members = [MemberRow("x", "王建国", "A", "self"),           # its own householder
               MemberRow("merged", "王小明", "C", "child"),     # a household not in the run
               MemberRow("x", "某某", "000000000000000000", "other"),  # a number too many share
               MemberRow("y", "王小明", "C", "child")]          # listed in its own household
    assert with_member_pairs([], records, members) == []


def test_ingest_and_the_bulk_run_word_the_evidence_alike() -> None:
    """One rule: the same member gives the same text to a new household and to a bulk pair."""
    [candidate] = with_member_links([], "new", [MemberOf("h1", "李秀英", "spouse")])
    [found] = with_member_pairs([], _records(("h1", "王建国", "A"), ("new", "李秀英", "S")),
                                [MemberRow("h1", "李秀英", "S", "spouse")])
    assert candidate.evidence == found.evidence == ["新户主是已有户的家庭成员（李秀英，与户主关系：配偶）"]
    assert candidate.score == found.score == MEMBER_SCORE
