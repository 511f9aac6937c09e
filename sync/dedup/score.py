"""Scoring one pair of prepared households: a score in [0, 1] and Chinese evidence.

Data shape: :func:`score_pair` takes two :class:`~sync.dedup.prepare.Prepared`
and returns a :class:`Match` (score, evidence strings for the review page,
``exact_id``) or ``None`` when the pair must never be proposed.

The score is a sum of weights (:class:`Weights`), one per piece of evidence,
clamped to [0, 1]; a pair is proposed at ``Weights.threshold``. Two rules
are not weights but vetoes, because no amount of agreement elsewhere can
outweigh them:

- two different checksum-valid 18-digit ID numbers are two people, unless
  they are one typo apart (MOD 11-2 catches every single substitution and
  every adjacent swap of the first 17 digits, so among two valid numbers only
  a swap of the 17th digit with the check character can be one typo apart);
- two 18-character numbers differing in three or more places belong to
  different people (a father and his son of the same name, where one of the
  numbers also carries a typo).

A shared ID number with a clearly different name, or a birth year that no
householder can have, points to a relative's ID copied into the wrong
record: it caps the score below the threshold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from sync.dedup.prepare import INVALID18, MISSING, UPGRADED, VALID, Prepared

# ID relations, strongest first.
EXACT, UPGRADED_SAME, SAME_INVALID, SUBSTITUTION, SWAP, EDIT, NEAR = (
    "exact", "upgraded", "same_invalid", "substitution", "swap", "edit", "near")
NO_ID, UNKNOWN, DISTINCT_VALID, FAR = "no_id", "unknown", "distinct_valid", "far"

# Name relations.
NAME_SAME, NAME_PINYIN, NAME_HETERONYM, NAME_SIMILAR, NAME_DIFFERENT = (
    "same", "pinyin", "heteronym", "similar", "different")


@dataclass(frozen=True)
class Weights:
    """Evidence weights (tuned on the synthetic generator's seed 1, see bench/dedup.py)."""

    exact_id: float = 0.65
    upgraded_id: float = 0.6
    same_invalid_id: float = 0.5
    typo_id: float = 0.45
    edit_id: float = 0.3
    near_id: float = 0.1
    name_same: float = 0.3
    name_pinyin: float = 0.27
    name_heteronym: float = 0.25
    name_similar: float = -0.1
    name_different: float = -0.3
    no_id_name_bonus: float = 0.12
    village: float = 0.08
    other_village: float = -0.1
    group: float = 0.07
    other_group: float = -0.08
    hamlet: float = 0.05
    other_hamlet: float = -0.03
    phone: float = 0.12
    other_phone: float = -0.05
    size: float = 0.03
    size_far: float = -0.05
    other_town: float = -0.1
    exact_floor: float = 0.97
    relative_cap: float = 0.4
    threshold: float = 0.6
    min_head_age: int = 16
    max_head_age: int = 110


DEFAULT_WEIGHTS = Weights()


@dataclass(slots=True)
class Match:
    score: float
    evidence: list[str] = field(default_factory=list)
    exact_id: bool = False


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
        # Same surname, one other character different: 刘建国 / 刘建军 (a typo, or
        # brothers). Two characters different is two names: 石香荣 / 石祥发.
        if (a.readings[0] & b.readings[0]) and len(a.readings) >= 3 and len(a.name) == len(b.name) \
                and sum(1 for x, y in zip(a.name, b.name, strict=True) if x != y) <= 1:
            return NAME_SIMILAR
        return NAME_DIFFERENT
    # A character dropped or added (刘建国 / 刘国): similar; anything more is two names
    # (邵建 / 邵金安 sound close in pinyin but share only the surname).
    if a.name and b.name and a.name[0] == b.name[0] and max(len(a.name), len(b.name)) >= 3 \
            and Levenshtein.distance(a.name, b.name, score_cutoff=1) <= 1:
        return NAME_SIMILAR
    return NAME_DIFFERENT


_ID_EVIDENCE = {
    EXACT: "身份证号相同",
    UPGRADED_SAME: "15位旧身份证号与18位号码一致",
    SAME_INVALID: "身份证号相同（但号码本身校验不通过）",
    SUBSTITUTION: "身份证号相差一位（疑似录入错误）",
    SWAP: "身份证号相邻两位颠倒（疑似录入错误）",
    EDIT: "身份证号多一位或少一位（疑似录入错误）",
    NEAR: "身份证号相差两位",
    NO_ID: "一方未填身份证号",
    UNKNOWN: "身份证号格式错误，无法比对",
}


def _id_weight(relation: str, w: Weights) -> float:
    return {
        EXACT: w.exact_id, UPGRADED_SAME: w.upgraded_id, SAME_INVALID: w.same_invalid_id,
        SUBSTITUTION: w.typo_id, SWAP: w.typo_id, EDIT: w.edit_id, NEAR: w.near_id,
    }.get(relation, 0.0)


def _shared_pinyin(a: Prepared, b: Prepared) -> str:
    return " ".join(sorted(x & y)[0] if x & y else p
                    for x, y, p in zip(a.readings, b.readings, a.py, strict=True))


def score_pair(a: Prepared, b: Prepared, weights: Weights = DEFAULT_WEIGHTS,
               reference_year: int | None = None) -> Match | None:
    """Score two prepared households; ``None`` when they must never be proposed.

    :param a: one household
    :param b: the other household
    :param weights: evidence weights and the proposal threshold
    :param reference_year: the year a head's age is judged in (default: this year)
    """
    relation = id_relation(a, b)
    if relation in (DISTINCT_VALID, FAR):
        return None
    w = weights
    evidence: list[str] = []
    score = _id_weight(relation, w)
    if relation in _ID_EVIDENCE:
        evidence.append(_ID_EVIDENCE[relation])
    id_linked = score > 0

    naming = name_relation(a, b)
    bonus = w.no_id_name_bonus if not id_linked else 0.0
    if naming == NAME_SAME:
        score += w.name_same + bonus
        evidence.append(f"姓名相同（{a.name}）")
    elif naming == NAME_PINYIN:
        score += w.name_pinyin + bonus
        evidence.append(f"姓名拼音相同（{a.pinyin_text}）")
    elif naming == NAME_HETERONYM:
        score += w.name_heteronym + bonus
        evidence.append(f"姓名读音相同（多音字，{_shared_pinyin(a, b)}）")
    elif naming == NAME_SIMILAR:
        score += w.name_similar
        evidence.append(f"姓名相近（{a.name}/{b.name}）")
    else:
        score += w.name_different
        evidence.append(f"姓名不同（{a.name}/{b.name}）")

    cap: float | None = None
    if id_linked and relation != NEAR:
        if naming == NAME_DIFFERENT:
            cap = w.relative_cap
            evidence.append("身份证号相同或相近但姓名明显不同（疑似填了亲属的证件号）")
        year = reference_year or dt.date.today().year
        # Only a checksum-valid number's birth year is trusted: a typo may sit in the year.
        years = {p.birth_year for p in (a, b) if p.id_state <= UPGRADED}
        for born in sorted(y for y in years if y is not None):
            if not (w.min_head_age <= year - born <= w.max_head_age):
                cap = w.relative_cap
                evidence.append(f"证件出生年份（{born}年）不可能是户主（疑似填了亲属的证件号）")

    score += _place_score(a, b, w, evidence)

    exact = relation == EXACT and cap is None and naming in (NAME_SAME, NAME_PINYIN, NAME_HETERONYM) and (
        a.town is None or b.town is None or a.town == b.town)
    if exact:
        score = max(score, w.exact_floor)
    if cap is not None:
        score = min(score, cap)
    return Match(round(min(1.0, max(0.0, score)), 3), evidence, exact)


def _place_score(a: Prepared, b: Prepared, w: Weights, evidence: list[str]) -> float:
    score = 0.0
    if a.town is not None and b.town is not None and a.town != b.town:
        score += w.other_town
        evidence.append("不同乡镇")
    same_village = a.village is not None and a.village == b.village
    if same_village:
        score += w.village
    elif a.village is not None and b.village is not None:
        score += w.other_village
        evidence.append("不同村")
    if a.group and b.group:
        if a.group == b.group:
            score += w.group
            evidence.append("同村同组" if same_village else f"同组（{a.group}）")
        else:
            score += w.other_group
            if same_village:
                evidence.append("同村")
            evidence.append(f"村民小组不同（{a.group}/{b.group}）")
    elif same_village:
        evidence.append("同村")
    if a.hamlet and b.hamlet:
        if a.hamlet == b.hamlet:
            score += w.hamlet
            evidence.append(f"同湾（{a.hamlet}）")
        elif a.hamlet_py == b.hamlet_py:
            score += w.hamlet
            evidence.append(f"湾名读音相同（{a.hamlet}/{b.hamlet}）")
        else:
            score += w.other_hamlet
            evidence.append(f"湾名不同（{a.hamlet}/{b.hamlet}）")
    if a.phone and b.phone:
        if a.phone == b.phone:
            score += w.phone
            evidence.append("电话相同")
        else:
            score += w.other_phone
            evidence.append("电话不同")
    if a.size is not None and b.size is not None:
        if a.size == b.size:
            score += w.size
            evidence.append(f"家庭人口数相同（{a.size}人）")
        elif abs(a.size - b.size) >= 3:
            score += w.size_far
            evidence.append(f"家庭人口数相差较大（{a.size}/{b.size}）")
    return score
