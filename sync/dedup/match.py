"""Household duplicate matching one record at a time: the interface ingest calls.

Shapes: :func:`blocking_keys` gives the keys under which the store looks up
a new household's possible partners (never all pairs); :func:`match_one`
scores the household against those partners and returns :class:`Candidate`
objects, best first.

Nothing here merges anything: a candidate waits for a supervisor. An exact,
checksum-valid ID match within one town comes back with ``exact_id=True``
and a score near 1.0 so the review page can offer a one-tap merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sync.dedup.idtypos import typo_neighbours
from sync.dedup.prepare import INVALID18, OTHER, UPGRADED, VALID, prepare
from sync.dedup.record import HouseholdRecord
from sync.dedup.score import DEFAULT_WEIGHTS, Weights, score_pair


@dataclass
class Candidate:
    other_id: str
    score: float
    evidence: list[str] = field(default_factory=list)
    exact_id: bool = False


@dataclass(frozen=True)
class BlockingKeys:
    """What the store should look up: exact IDs, ID prefixes (region + birth date),
    (village id, surname pinyin) pairs and phones."""

    head_ids: frozenset[str] = frozenset()
    id_prefixes: frozenset[str] = frozenset()
    village_surnames: frozenset[tuple[int, str]] = frozenset()
    phones: frozenset[str] = frozenset()


def blocking_keys(record: HouseholdRecord) -> BlockingKeys:
    """The keys under which the store looks up the record's possible partners.

    ``head_ids`` holds the number itself, its 15/18-digit twin and the valid
    numbers one typo away; ``id_prefixes`` the first 14 characters (region +
    birth date); ``village_surnames`` one pair per reading of the surname's
    first character (曾 gives both "zeng" and "ceng", since the stored
    ``head_pinyin`` may carry either); ``phones`` the normalised phone.

    :param record: the new household
    """
    p = prepare(record)
    head_ids: set[str] = set()
    prefixes: set[str] = set()
    if p.id_state in (VALID, UPGRADED, INVALID18) or (p.id_state == OTHER and len(p.id_value) == 18):
        head_ids.add(p.id_value)
        head_ids.add(p.id_typed)
        head_ids |= typo_neighbours(p.id_value)
        if p.id_value[:14].isdigit():
            prefixes.add(p.id_value[:14])
        if p.id_state == VALID and p.id_value[6:8] == "19":
            head_ids.add(p.id_value[:6] + p.id_value[8:17])  # the old 15-digit form
    elif p.id_value:
        head_ids.add(p.id_value)
    surnames: set[tuple[int, str]] = set()
    if record.village_id is not None and p.readings:
        surnames = {(record.village_id, reading) for reading in p.readings[0]}
    return BlockingKeys(
        head_ids=frozenset(head_ids), id_prefixes=frozenset(prefixes),
        village_surnames=frozenset(surnames), phones=frozenset({p.phone} if p.phone else ()),
    )


def match_one(record: HouseholdRecord, pool: Iterable[HouseholdRecord],
              weights: Weights = DEFAULT_WEIGHTS, reference_year: int | None = None) -> list[Candidate]:
    """Candidates for ``record`` among ``pool``, best first.

    :param record: the new household
    :param pool: households found under the record's blocking keys
    :param weights: evidence weights and the threshold a candidate must reach
    :param reference_year: the year a householder's age is judged in (default: this year)
    """
    me = prepare(record)
    found: dict[str, Candidate] = {}
    for other in pool:
        if other.id == record.id or other.id in found:
            continue
        match = score_pair(me, prepare(other), weights, reference_year)
        if match is not None and match.score >= weights.threshold:
            found[other.id] = Candidate(other.id, match.score, match.evidence, match.exact_id)
    return sorted(found.values(), key=lambda c: (-c.score, c.other_id))
