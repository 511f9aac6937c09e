"""Household duplicate matching: the interface ingest calls, one record at a time.

Shapes: a :class:`HouseholdRecord` is the plain view of a household that
matching needs; :func:`blocking_keys` gives the keys under which the store
looks up possible partners (never all pairs); :func:`match_one` scores a new
household against those partners and returns :class:`Candidate` objects,
best first. The features are computed by :mod:`sync.dedup_prepare`, the
score and its Chinese evidence by :mod:`sync.dedup_score`; the bulk run over
a whole roster is :mod:`sync.dedup_bulk`.

Nothing here merges anything: a candidate waits for a supervisor. An exact,
checksum-valid ID match within one town comes back with ``exact_id=True``
and a score near 1.0 so the review page can offer a one-tap merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sync.dedup_prepare import CHECK_CHARS, INVALID18, OTHER, UPGRADED, VALID, prepare
from sync.dedup_score import DEFAULT_WEIGHTS, Weights, score_pair
from sync.idnumber import WEIGHTS


@dataclass(frozen=True, slots=True)
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


_INVERSE_MOD11 = {w: pow(w, -1, 11) for w in set(WEIGHTS)}


def _checks(value: str) -> bool:
    return CHECK_CHARS[sum((ord(c) - 48) * w for c, w in zip(value[:17], WEIGHTS, strict=True)) % 11] == value[17]


def typo_neighbours(id_value: str) -> set[str]:
    """The checksum-valid numbers one typo away from an 18-character number.

    One substitution in the first 17 digits (for each position, the one digit
    that makes the check character right, if there is one), a corrected check
    character, or one adjacent swap. For a valid number only the swap of the
    last two characters is listed: it is the one typo that can turn a valid
    number into another valid one (its other one-typo variants are all invalid).

    :param id_value: a normalised 18-character number (17 digits + digit/X)
    """
    found: set[str] = set()
    if len(id_value) != 18 or not (id_value[:16].isascii() and id_value[:16].isdigit()):
        return found
    if id_value[16] == "X" and id_value[17].isdigit():
        # The X of the check position typed one place early (swap) or in place of a digit.
        for digit in "0123456789":
            if _checks(id_value[:16] + digit + id_value[17]):
                found.add(id_value[:16] + digit + id_value[17])
        if _checks(id_value[:16] + id_value[17] + "X"):
            found.add(id_value[:16] + id_value[17] + "X")
        return found
    if not id_value[16].isdigit():
        return found
    digits = id_value[:17]
    check = id_value[17]
    values = [ord(c) - 48 for c in digits]
    total = sum(d * w for d, w in zip(values, WEIGHTS, strict=True)) % 11
    if check != "X" and digits[16] != check:
        last = ord(check) - 48
        tail_total = (total + (last - values[16]) * WEIGHTS[16]) % 11
        if CHECK_CHARS[tail_total] == digits[16]:
            found.add(digits[:16] + check + digits[16])
    target = CHECK_CHARS.find(check)
    if target == total or target < 0:
        return found
    found.add(digits + CHECK_CHARS[total])
    for i in range(17):
        d = (values[i] + (target - total) * _INVERSE_MOD11[WEIGHTS[i]]) % 11
        if d <= 9 and d != values[i]:
            found.add(digits[:i] + chr(48 + d) + digits[i + 1:] + check)
        if i < 16 and values[i] != values[i + 1]:
            swapped = (total + (values[i + 1] - values[i]) * (WEIGHTS[i] - WEIGHTS[i + 1])) % 11
            if swapped == target:
                found.add(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:] + check)
    return found


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
