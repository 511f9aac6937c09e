"""Scoring one pair of prepared households: a probability in [0, 1] and Chinese evidence.

Data shape: :func:`score_pair` takes two :class:`~sync.dedup.prepare.Prepared`
and returns a :class:`Match` (score, evidence strings for the review page,
``exact_id``) or ``None`` when the pair must never be proposed (the vetoes of
:mod:`sync.dedup.compare`).

The score is the Fellegi-Sunter probability of the pair's levels under
:class:`~sync.dedup.weights.Weights`, then the rules: a capped pair (a
relative's ID number, a clearly different name) scores at most
``relative_cap``, below any threshold; an exact checksum-valid ID under the
same name in the same town scores at least ``exact_floor`` and is marked
``exact_id`` so the review page can offer a one-tap merge, and only such a
pair scores that high. :func:`rule_score` applies them to a probability, so that the
bulk run, which scores levels by the thousand, decides exactly as this does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.dedup.compare import (
    CAPPED,
    EDIT,
    EXACT,
    ID_LINKED,
    NAME_DIFFERENT,
    NAME_GIVEN,
    NAME_HETERONYM,
    NAME_PINYIN,
    NAME_SAME,
    NAME_SIMILAR,
    NAME_SWAPPED,
    NEAR,
    NO_ID,
    ONE_TAP,
    SAME_INVALID,
    SUBSTITUTION,
    SWAP,
    TRUNCATED,
    UNKNOWN,
    UPGRADED_SAME,
    Levels,
    compare,
    head_age_ok,
    id_relation,
    name_relation,
    phone_typo,
)
from sync.dedup.prepare import Prepared
from sync.dedup.weights import DEFAULT_WEIGHTS, Weights

__all__ = ["DEFAULT_WEIGHTS", "Match", "Weights", "evidence", "id_relation", "rule_score", "score_pair"]


@dataclass(slots=True)
class Match:
    score: float
    evidence: list[str] = field(default_factory=list)
    exact_id: bool = False


def rule_score(probability: float, rule: int, weights: Weights) -> tuple[float, bool]:
    """(score, exact_id) of a pair whose levels give ``probability``, after the rules."""
    if rule == CAPPED:
        return round(min(probability, weights.relative_cap), 3), False
    if rule == ONE_TAP:
        return round(max(probability, weights.exact_floor), 3), True
    return round(min(probability, weights.exact_floor - 0.01), 3), False


def score_pair(a: Prepared, b: Prepared, weights: Weights = DEFAULT_WEIGHTS,
               reference_year: int | None = None) -> Match | None:
    """Score two prepared households; ``None`` when they must never be proposed.

    :param a: one household
    :param b: the other household
    :param weights: the level weights and the proposal threshold
    :param reference_year: the year a head's age is judged in (default: this year)
    """
    levels = compare(a, b, reference_year)
    if levels is None:
        return None
    score, exact = rule_score(weights.probability(levels), levels[-1], weights)
    return Match(score, evidence(a, b, levels, reference_year), exact)


_ID_EVIDENCE = {
    EXACT: "身份证号相同",
    UPGRADED_SAME: "15位旧身份证号与18位号码一致",
    SAME_INVALID: "身份证号相同（但号码本身校验不通过）",
    SUBSTITUTION: "身份证号相差一位（疑似录入错误）",
    SWAP: "身份证号相邻两位颠倒（疑似录入错误）",
    EDIT: "身份证号多一位或少一位（疑似录入错误）",
    TRUNCATED: "身份证号不全（前面各位相同）",
    NEAR: "身份证号相差两位",
    NO_ID: "一方未填身份证号",
    UNKNOWN: "身份证号格式错误，无法比对",
}


def _shared_pinyin(a: Prepared, b: Prepared) -> str:
    return " ".join(sorted(x & y)[0] if x & y else p
                    for x, y, p in zip(a.readings, b.readings, a.py, strict=True))


_NAME_EVIDENCE = {
    NAME_SAME: "姓名相同（{a}）", NAME_SWAPPED: "姓名字序颠倒（{a}/{b}）", NAME_SIMILAR: "姓名相近（{a}/{b}）",
    NAME_GIVEN: "同姓，名不同（{a}/{b}）", NAME_DIFFERENT: "姓名不同（{a}/{b}）",
}


def _name_evidence(a: Prepared, b: Prepared, naming: str) -> str:
    if naming == NAME_PINYIN:
        return f"姓名拼音相同（{a.pinyin_text}）"
    if naming == NAME_HETERONYM:
        return f"姓名读音相同（多音字，{_shared_pinyin(a, b)}）"
    return _NAME_EVIDENCE[naming].format(a=a.name, b=b.name)


def evidence(a: Prepared, b: Prepared, levels: Levels, reference_year: int | None = None) -> list[str]:
    """What the review page shows for a pair, one Chinese phrase per piece of evidence."""
    relation = id_relation(a, b)
    naming = name_relation(a, b)
    out = [_ID_EVIDENCE[relation], _name_evidence(a, b, naming)] if relation in _ID_EVIDENCE \
        else [_name_evidence(a, b, naming)]
    if relation in ID_LINKED:
        if naming in (NAME_DIFFERENT, NAME_GIVEN):
            out.append("身份证号相同或相近但姓名明显不同（疑似填了亲属的证件号）")
        for p in (a, b):
            if not head_age_ok(p, reference_year or _this_year()):
                out.append(f"证件出生年份（{p.birth_year}年）不可能是户主（疑似填了亲属的证件号）")
    out += _place_evidence(a, b)
    return out


def _this_year() -> int:
    import datetime as dt

    return dt.date.today().year


def _place_evidence(a: Prepared, b: Prepared) -> list[str]:
    out: list[str] = []
    if a.town is not None and b.town is not None and a.town != b.town:
        out.append("不同乡镇")
    same_village = a.village is not None and a.village == b.village
    if not same_village and a.village is not None and b.village is not None:
        out.append("不同村")
    if a.group and b.group:
        if a.group == b.group:
            out.append("同村同组" if same_village else f"同组（{a.group}）")
        else:
            if same_village:
                out.append("同村")
            out.append(f"村民小组不同（{a.group}/{b.group}）")
    elif same_village:
        out.append("同村")
    if a.hamlet and b.hamlet:
        if a.hamlet == b.hamlet:
            out.append(f"同湾（{a.hamlet}）")
        elif a.hamlet_base == b.hamlet_base:
            out.append(f"同湾（写法不同：{a.hamlet}/{b.hamlet}）")
        elif a.hamlet_py == b.hamlet_py:
            out.append(f"湾名读音相同（{a.hamlet}/{b.hamlet}）")
        else:
            out.append(f"湾名不同（{a.hamlet}/{b.hamlet}）")
    if a.phone and b.phone:
        if a.phone == b.phone:
            out.append("电话相同")
        elif phone_typo(a.phone, b.phone):
            out.append("电话相差一位（疑似录入错误）")
        else:
            out.append("电话不同")
    if a.size is not None and b.size is not None:
        if a.size == b.size:
            out.append(f"家庭人口数相同（{a.size}人）")
        elif abs(a.size - b.size) >= 3:
            out.append(f"家庭人口数相差较大（{a.size}/{b.size}）")
    return out
