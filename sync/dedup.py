"""Household duplicate matching (the interface ingest calls; the dedup issue deepens it).

Shapes: a :class:`HouseholdRecord` is the plain view of a household that
matching needs; :func:`blocking_keys` gives the keys under which the store
looks up possible partners (never all pairs); :func:`match_one` scores a new
household against those partners and returns :class:`Candidate` objects,
best first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sync.idnumber import is_valid_id, normalize_id


@dataclass(frozen=True)
class HouseholdRecord:
    id: str
    village_id: int | None
    head_name: str
    head_id: str
    phone: str | None = None
    group: str | None = None
    hamlet: str | None = None
    size: int | None = None
    town_id: int | None = None


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
    head_id = normalize_id(record.head_id)
    return BlockingKeys(head_ids=frozenset({head_id}) if head_id else frozenset())


def match_one(record: HouseholdRecord, pool: Iterable[HouseholdRecord]) -> list[Candidate]:
    """Candidates for ``record`` among ``pool``, best first.

    :param record: the new household
    :param pool: households found under the record's blocking keys
    """
    head_id = normalize_id(record.head_id)
    if not is_valid_id(head_id):
        return []
    found = [
        Candidate(other.id, 1.0, ["身份证号完全相同"], exact_id=True)
        for other in pool
        if other.id != record.id and normalize_id(other.head_id) == head_id
    ]
    return sorted(found, key=lambda c: -c.score)
