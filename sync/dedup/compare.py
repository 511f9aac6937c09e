"""Comparing two prepared households field by field: one level per comparison.

Data shape: :func:`compare` returns a :data:`Levels` tuple, one small integer
per entry of :data:`COMPARISONS` (0 is the closest agreement, see
:data:`LEVELS`), followed by a rule flag (:data:`NO_RULE`, :data:`CAPPED`,
:data:`ONE_TAP`); or ``None`` when the pair must never be proposed. The
weights of the levels live in :mod:`sync.dedup.weights`; the Chinese evidence
of a pair is written by :mod:`sync.dedup.score`.

Two ID rules are vetoes, because no agreement elsewhere can outweigh them:

- two different checksum-valid 18-digit ID numbers are two people: a
  relative's number differs in its birth date or sequence, and no single typo
  keeps the check (MOD 11-2 catches every substitution and every adjacent
  swap, the check character's own swap with the 17th digit included);
- two 18-character numbers differing in three or more places belong to
  different people (a father and his son of the same name, where one of the
  numbers also carries a typo).

Two rules cap the score below the threshold (:data:`CAPPED`). A clearly
different name: what two records then share (village, group, hamlet, phone,
household size, even an ID number, a relative's copied into the record) is
what a family shares, and another member named as householder cannot be told
from a relative's own household. A two-character name whose given name
differs (刘伟 / 刘强) counts as clearly different unless the ID numbers link
the two records: under one number it is mostly a typo, without one mostly a
brother. And a birth year no householder can have: a relative's number.
"""

from __future__ import annotations

import datetime as dt

from rapidfuzz.distance import Levenshtein

from sync.dedup.prepare import INVALID18, MISSING, UPGRADED, VALID, Prepared

# ID relations, strongest first (evidence keeps them apart; levels group them).
EXACT, UPGRADED_SAME, SAME_INVALID, SUBSTITUTION, SWAP, EDIT, TRUNCATED, NEAR = (
    "exact", "upgraded", "same_invalid", "substitution", "swap", "edit", "truncated", "near")
NO_ID, UNKNOWN, DISTINCT_VALID, FAR = "no_id", "unknown", "distinct_valid", "far"

# Name relations.
NAME_SAME, NAME_PINYIN, NAME_HETERONYM, NAME_SWAPPED, NAME_SIMILAR, NAME_GIVEN, NAME_DIFFERENT = (
    "same", "pinyin", "heteronym", "swapped", "similar", "given", "different")

COMPARISONS = ("id", "name", "village", "town", "group", "hamlet", "phone", "size")
LEVELS: dict[str, tuple[str, ...]] = {
    "id": ("exact", "same_invalid", "typo", "edit", "near", "missing", "unknown"),
    "name": ("same", "sound", "swapped", "similar", "given", "different"),
    "village": ("same", "different", "missing"),
    "town": ("same", "different", "missing"),
    "group": ("same", "different", "missing"),
    "hamlet": ("same", "variant", "different", "missing"),
    "phone": ("same", "typo", "different", "missing"),
    "size": ("same", "near", "far", "missing"),
}
Levels = tuple[int, ...]
NO_EVIDENCE_FOR: dict[str, frozenset[str]] = {
    "id": frozenset({"missing", "unknown"}),
    "name": frozenset({"different"}),
    "village": frozenset({"different", "missing"}),
    "town": frozenset({"different", "missing"}),
    "group": frozenset({"different", "missing"}),
    "hamlet": frozenset({"different", "missing"}),
    "phone": frozenset({"different", "missing"}),
    "size": frozenset({"far", "missing"}),
}
"""Levels that never speak for a match: a disagreement, or nothing to compare (see
:func:`sync.dedup.fit.fit_weights`)."""

NO_RULE, CAPPED, ONE_TAP = 0, 1, 2
MIN_HEAD_AGE, MAX_HEAD_AGE = 16, 110

_ID_LEVEL = {EXACT: 0, UPGRADED_SAME: 0, SAME_INVALID: 1, SUBSTITUTION: 2, SWAP: 2, EDIT: 3, TRUNCATED: 3,
             NEAR: 4, NO_ID: 5, UNKNOWN: 6}
_NAME_LEVEL = {NAME_SAME: 0, NAME_PINYIN: 1, NAME_HETERONYM: 1, NAME_SWAPPED: 2, NAME_SIMILAR: 3,
               NAME_GIVEN: 4, NAME_DIFFERENT: 5}
ID_LINKED = frozenset({EXACT, UPGRADED_SAME, SAME_INVALID, SUBSTITUTION, SWAP, EDIT, TRUNCATED})
"""Relations that say "the same number" (typed right or with one slip)."""


def id_relation(a: Prepared, b: Prepared) -> str:
    """How two ID numbers relate: exact, one typo apart, far apart, unknown, ..."""
    if a.id_state == MISSING or b.id_state == MISSING:
        return NO_ID
    x, y = a.id_value, b.id_value
    if x == y:
        if a.id_state <= UPGRADED and b.id_state <= UPGRADED:
            return UPGRADED_SAME if (a.id_state == UPGRADED) != (b.id_state == UPGRADED) else EXACT
        return SAME_INVALID
    if a.id_state <= INVALID18 and b.id_state <= INVALID18:
        # An upgraded 15-digit number has a computed check character: compare 17.
        upgraded = a.id_state == UPGRADED or b.id_state == UPGRADED
        diffs = [i for i in range(17 if upgraded else 18) if x[i] != y[i]]
        if not diffs:
            return UPGRADED_SAME
        if len(diffs) == 1:
            return SUBSTITUTION
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1 and x[diffs[0]] == y[diffs[1]] \
                and x[diffs[1]] == y[diffs[0]]:
            return SWAP
        if a.id_state == VALID and b.id_state == VALID:
            return DISTINCT_VALID
        return NEAR if len(diffs) == 2 else FAR
    short, long_ = (x, y) if len(x) < len(y) else (y, x)
    if len(short) >= 14 and long_.startswith(short) and len(long_) <= 18:
        return TRUNCATED  # cut off after the birth date or later (17 digits: the check lost)
    if Levenshtein.distance(x, y, score_cutoff=1) <= 1:
        return EDIT
    return UNKNOWN


def name_relation(a: Prepared, b: Prepared) -> str:
    if a.name == b.name and a.name:
        return NAME_SAME
    if a.py == b.py and a.py:
        return NAME_PINYIN
    if len(a.readings) == len(b.readings) and a.readings:
        shared = sum(1 for x, y in zip(a.readings, b.readings, strict=True) if x & y)
        if shared == len(a.readings):
            return NAME_HETERONYM
        surname = a.readings[0] & b.readings[0]
        # The given name's characters swapped: 贺善银 / 贺银善 (or their sounds).
        if surname and len(a.py) >= 3 and sorted(a.py[1:]) == sorted(b.py[1:]):
            return NAME_SWAPPED
        # Same surname, one other character different: 刘建国 / 刘建军 (a typo, or
        # brothers). Two characters different is two names: 石香荣 / 石祥发.
        if surname and len(a.readings) >= 3 and len(a.name) == len(b.name) \
                and sum(1 for x, y in zip(a.name, b.name, strict=True) if x != y) <= 1:
            return NAME_SIMILAR
        # 刘伟 / 刘强: the whole given name of a two-character name differs: under one
        # ID number a typo or a relative's number (the weights tell which is likelier),
        # else two people (see compare).
        if surname and len(a.readings) == 2 and a.name[0] == b.name[0]:
            return NAME_GIVEN
        return NAME_DIFFERENT
    # A character dropped or added (刘建国 / 刘国): similar; anything more is two names
    # (邵建 / 邵金安 sound close in pinyin but share only the surname).
    if a.name and b.name and a.name[0] == b.name[0] and max(len(a.name), len(b.name)) >= 3 \
            and Levenshtein.distance(a.name, b.name, score_cutoff=1) <= 1:
        return NAME_SIMILAR
    return NAME_DIFFERENT


def _same_or_missing(x: object, y: object) -> int:
    if x is None or y is None or x == "" or y == "":
        return 2
    return 0 if x == y else 1


def _hamlet_level(a: Prepared, b: Prepared) -> int:
    if not a.hamlet or not b.hamlet:
        return 3
    if a.hamlet == b.hamlet:
        return 0
    if a.hamlet_base == b.hamlet_base or a.hamlet_py == b.hamlet_py:
        return 1
    return 2


def phone_typo(x: str, y: str) -> bool:
    """One digit wrong or two neighbours swapped."""
    if len(x) != len(y):
        return False
    diffs = [i for i in range(len(x)) if x[i] != y[i]]
    return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                               and x[diffs[0]] == y[diffs[1]] and x[diffs[1]] == y[diffs[0]])


def _phone_level(x: str, y: str) -> int:
    if not x or not y:
        return 3
    if x == y:
        return 0
    return 1 if phone_typo(x, y) else 2


def _size_level(x: int | None, y: int | None) -> int:
    if x is None or y is None:
        return 3
    gap = abs(x - y)
    return 0 if gap == 0 else 1 if gap == 1 else 2


def head_age_ok(p: Prepared, year: int) -> bool:
    """False when a checksum-valid number's birth year makes its holder too young or too
    old to head a household (a typo may sit in the year of an invalid one: not judged)."""
    born = p.birth_year if p.id_state <= UPGRADED else None
    return born is None or MIN_HEAD_AGE <= year - born <= MAX_HEAD_AGE


def compare(a: Prepared, b: Prepared, reference_year: int | None = None) -> Levels | None:
    """The levels of two households (see the module note), or ``None`` for a vetoed pair.

    :param reference_year: the year a householder's age is judged in (default: this year)
    """
    relation = id_relation(a, b)
    if relation == DISTINCT_VALID or relation == FAR:
        return None
    naming = name_relation(a, b)
    linked = relation in ID_LINKED
    rule = CAPPED if naming == NAME_DIFFERENT or (naming == NAME_GIVEN and not linked) else NO_RULE
    if linked and rule == NO_RULE:
        year = reference_year or dt.date.today().year
        if not (head_age_ok(a, year) and head_age_ok(b, year)):
            rule = CAPPED
        elif relation == EXACT and naming in (NAME_SAME, NAME_PINYIN, NAME_HETERONYM) and (
                a.town is None or b.town is None or a.town == b.town):
            rule = ONE_TAP
    return (_ID_LEVEL[relation], *_other_levels(a, b, naming), rule)


def _other_levels(a: Prepared, b: Prepared, naming: str) -> tuple[int, ...]:
    return (_NAME_LEVEL[naming], _same_or_missing(a.village, b.village), _same_or_missing(a.town, b.town),
            _same_or_missing(a.group, b.group), _hamlet_level(a, b), _phone_level(a.phone, b.phone),
            _size_level(a.size, b.size))
