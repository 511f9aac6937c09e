"""Household members as duplicate evidence (form 2024.1, issue 19).

A householder whose ID number is a *member* of another household (a son who
split off, a spouse now named as householder) may head the same household, or
one just split from it: either way a supervisor should look. The comparison of
householders (:mod:`~sync.dedup.score`) cannot see it, since the two
householders differ; this rule adds the pair at :data:`MEMBER_SCORE`, or adds
its evidence to a pair already found (raising its score to that at least).
The evidence names the member and the relation, never the ID number (it is
shown on review pages).

One rule, two callers:

- ingest (:func:`with_member_links`): one new household against the
  households that list its householder's ID number (the store's lookup,
  :class:`MemberOf` rows);
- ``dedup run`` (:func:`with_member_pairs`): every live household against every
  stored member (:class:`MemberRow`), joined through a dict of householders'
  ID numbers: one pass over the households, one over the members, never pairs.

The pairs it adds are not put through :func:`~sync.dedup.links.keep_consistent`:
two households with different householders' valid numbers are what this
evidence is about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sync.dedup.bulk import MAX_EXACT_GROUP, PairMatch
from sync.dedup.match import Candidate
from sync.dedup.record import RecordLike
from sync.form import available_versions, load_form

MEMBER_SCORE = 0.9
"""The score of a pair found through a member: above the candidate threshold, below
an exact householder ID (a split household is not always one to merge)."""

RelationLabel = Callable[[str | None], str]


@dataclass(frozen=True)
class MemberOf:
    """An existing household that lists the ID number among its members."""

    household_id: str
    member_name: str
    relation: str | None


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A stored member with an ID number (``household_members``), for a bulk run."""

    household_id: str
    name: str
    id_number: str
    relation: str | None


def relation_label(code: str | None) -> str:
    """与户主关系 as the members' form field names it (the code if it names none)."""
    for version in available_versions():
        repeat = load_form(version).by_id.get("members")
        if repeat is not None:
            for f in repeat.fields:
                if f.id == "relation":
                    return f.choice_label(code) or "未填"
    return code or "未填"


def member_evidence(member_name: str, relation: str) -> str:
    """The evidence's text: the member's name and the relation's name, never the ID number."""
    return f"新户主是已有户的家庭成员（{member_name}，与户主关系：{relation}）"


def _counts(link: MemberOf, householder_of: str) -> bool:
    """A member is evidence about another household, and not as its own householder
    (the householders' comparison sees that)."""
    return link.household_id != householder_of and link.relation != "self"


def with_member_links(found: list[Candidate], new_id: str, links: Iterable[MemberOf],
                      label: RelationLabel = relation_label) -> list[Candidate]:
    """``found`` (from :func:`~sync.dedup.match.match_one`) with the households whose
    members include the new householder: their evidence added, or a new candidate.

    :param new_id: the new household (a member of itself is no evidence)
    :param links: the households that list the new householder's ID number as a member
    :param label: the relation's name (its code → 子女)
    """
    by_id = {c.other_id: c for c in found}
    for link in links:
        if not _counts(link, new_id):
            continue
        evidence = member_evidence(link.member_name, label(link.relation))
        candidate = by_id.get(link.household_id)
        if candidate is None:
            by_id[link.household_id] = Candidate(link.household_id, MEMBER_SCORE, [evidence])
        elif evidence not in candidate.evidence:
            candidate.evidence.append(evidence)
            candidate.score = max(candidate.score, MEMBER_SCORE)
    return sorted(by_id.values(), key=lambda c: (-c.score, c.other_id))


def with_member_pairs(pairs: list[PairMatch], records: Sequence[RecordLike], members: Iterable[MemberRow],
                      label: RelationLabel = relation_label) -> list[PairMatch]:
    """A bulk run's ``pairs`` (indexes into ``records``, from
    :func:`~sync.dedup.bulk.find_duplicates`) with the pairs where one record's
    householder is a stored member of another record: their evidence added (the score
    raised to :data:`MEMBER_SCORE` at least), or a new pair; sorted by ``(a, b)``.

    :param records: the households of the run (live ones: a member of a household not
        among them is skipped)
    :param members: stored members with an ID number, in any order
    :param label: the relation's name (its code → 子女)
    """
    index = {record.id: i for i, record in enumerate(records)}
    heads: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        if record.head_id:
            heads.setdefault(record.head_id, []).append(i)
    by_pair = {(p.a, p.b): p for p in pairs}
    labels: dict[str | None, str] = {}
    for member in members:
        holders = heads.get(member.id_number)
        listed_in = index.get(member.household_id)
        if not holders or listed_in is None or len(holders) > MAX_EXACT_GROUP:
            continue  # nobody heads a household with it, or a placeholder number many share
        link = MemberOf(member.household_id, member.name, member.relation)
        for i in holders:
            if not _counts(link, records[i].id):
                continue
            relation = labels.get(member.relation)
            if relation is None:
                relation = labels[member.relation] = label(member.relation)
            evidence = member_evidence(member.name, relation)
            key = (listed_in, i) if listed_in < i else (i, listed_in)
            pair = by_pair.get(key)
            if pair is None:
                by_pair[key] = PairMatch(key[0], key[1], MEMBER_SCORE, [evidence], member=True)
                continue
            if evidence not in pair.evidence:
                pair.evidence.append(evidence)
            pair.score = max(pair.score, MEMBER_SCORE)
            pair.member = True
    return [by_pair[key] for key in sorted(by_pair)]
