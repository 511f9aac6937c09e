"""A new householder who is a member of an existing household (sync/dedup/members.py)."""

from __future__ import annotations

from sync.dedup.match import Candidate
from sync.dedup.members import MEMBER_SCORE, MemberOf, with_member_links


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
