"""Household members as duplicate evidence (form 2024.1, issue 19).

A new household whose householder's ID number is a *member* of an existing
household (a son who split off, a spouse now named as householder) may be the
same household, or one just split from it: either way a supervisor should
look. The comparison of householders (:mod:`~sync.dedup.score`) cannot see
it, since the two householders differ; this rule adds the pair, or adds its
evidence to a pair already found. The evidence names the member and the
relation, never the ID number (it is shown on review pages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sync.dedup.match import Candidate

MEMBER_SCORE = 0.9
"""The score of a pair found through a member: above the candidate threshold, below
an exact householder ID (a split household is not always one to merge)."""


@dataclass(frozen=True)
class MemberOf:
    """An existing household that lists the ID number among its members."""

    household_id: str
    member_name: str
    relation: str | None


def member_evidence(link: MemberOf, relation_label: Callable[[str | None], str]) -> str:
    return f"新户主是已有户的家庭成员（{link.member_name}，与户主关系：{relation_label(link.relation)}）"


def with_member_links(found: list[Candidate], new_id: str, links: Iterable[MemberOf],
                      relation_label: Callable[[str | None], str] = lambda code: code or "未填") -> list[Candidate]:
    """``found`` (from :func:`~sync.dedup.match.match_one`) with the households whose
    members include the new householder: their evidence added, or a new candidate.

    :param new_id: the new household (a member of itself is no evidence)
    :param links: the households that list the new householder's ID number as a member
    """
    by_id = {c.other_id: c for c in found}
    for link in links:
        if link.household_id == new_id or link.relation == "self":
            continue  # its own householder: the householders' comparison sees that
        evidence = member_evidence(link, relation_label)
        candidate = by_id.get(link.household_id)
        if candidate is None:
            by_id[link.household_id] = Candidate(link.household_id, MEMBER_SCORE, [evidence])
        elif evidence not in candidate.evidence:
            candidate.evidence.append(evidence)
            candidate.score = max(candidate.score, MEMBER_SCORE)
    return sorted(by_id.values(), key=lambda c: (-c.score, c.other_id))
