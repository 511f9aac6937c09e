"""Fitting the weights to a roster by EM, on the pairs its bulk run scores.

Which pairs are one household is not known, but the levels of every scored
pair are, and they are a mixture of three kinds of pair (one household, kin,
other: :mod:`sync.dedup.weights`), each with its own level probabilities, the
comparisons independent within a kind. EM alternates between the probability
that each pair is of each kind under the current weights (E) and the
probabilities and shares those imply (M).

Pairs with the same levels are one term weighted by their count, so an
iteration costs the number of distinct level patterns (hundreds to a few
thousand), not the number of pairs. The starting weights are also the prior
of the estimate (a Dirichlet prior worth ``strength`` pairs per kind and
comparison): a level the roster never shows keeps its prior estimate instead
of a zero, and the kinds keep the meaning the start gives them. A roster too
small to learn from (fewer than ``min_pairs`` pairs) keeps the starting
weights. Capped pairs (:data:`~sync.dedup.compare.CAPPED`) are left out: the
weights are fitted on the pairs they decide.

One constraint: a level of :data:`~sync.dedup.compare.NO_EVIDENCE_FOR` (a
disagreement, or nothing to compare) is never likelier for one household than
for two. Among the pairs a run scores, records of different villages met
through a shared phone or ID number, so "different village" shows up mostly in
pairs of one household: the blocking, not the village, makes it look like
evidence.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

from sync.dedup.compare import CAPPED, COMPARISONS, LEVELS, NO_EVIDENCE_FOR, Levels
from sync.dedup.weights import Table, Weights

MIN_PAIRS = 2_000
PRIOR_STRENGTH = 50.0
_HELD = [[level in NO_EVIDENCE_FOR[name] for level in LEVELS[name]] for name in COMPARISONS]

Rows = list[list[float]]


def fit_weights(patterns: Counter[Levels], start: Weights, *, min_pairs: int = MIN_PAIRS,
                strength: float = PRIOR_STRENGTH, max_iterations: int = 300, tolerance: float = 1e-6) -> Weights:
    """Weights re-estimated on ``patterns`` (levels of the scored pairs → how many pairs).

    :param start: starting weights and the prior of the estimate
    :param min_pairs: fewer pairs than this: ``start`` is returned unchanged
    :param strength: how many pairs' worth the starting weights count for
    """
    count_k = len(COMPARISONS)
    items = [(levels[:count_k], count) for levels, count in patterns.items() if levels[-1] != CAPPED]
    total = sum(count for _levels, count in items)
    if total < min_pairs:
        return start
    tables = [[list(row) for row in t] for t in (start.m, start.kin, start.other)]
    shares = [start.prior, (1 - start.prior) * start.kin_share, (1 - start.prior) * (1 - start.kin_share)]
    priors = (start.m, start.kin, start.other)
    # Each level a place in one flat row, each pattern its places; ``at[j]``: the
    # patterns that show place j. The sums below then run in C (sum over map).
    offsets = [sum(len(LEVELS[name]) for name in COMPARISONS[:k]) for k in range(count_k)]
    places = [tuple(offsets[k] + level for k, level in enumerate(levels)) for levels, _count in items]
    counts = [count for _levels, count in items]
    at: list[list[int]] = [[] for _ in range(sum(len(LEVELS[name]) for name in COMPARISONS))]
    for n, pattern in enumerate(places):
        for j in pattern:
            at[j].append(n)
    for _ in range(max_iterations):
        logs = [[math.log(v) for row in t for v in row] for t in tables]
        base = [math.log(share) for share in shares]
        weights: list[list[float]] = [[], [], []]
        for pattern, count in zip(places, counts, strict=True):
            scores = [base[c] + sum(map(logs[c].__getitem__, pattern)) for c in range(3)]
            top = max(scores)
            odds = [math.exp(score - top) for score in scores]
            scale = count / sum(odds)
            for c in range(3):
                weights[c].append(odds[c] * scale)
        seen = [sum(w) for w in weights]
        new = [_normalised(_rows([sum(map(weights[c].__getitem__, patterns)) for patterns in at], offsets),
                           priors[c], strength) for c in range(3)]
        new_shares = [(seen[c] + strength * shares_start) / (total + 3 * strength)
                      for c, shares_start in enumerate(_start_shares(start))]
        norm = sum(new_shares)
        new_shares = [share / norm for share in new_shares]
        new[0] = _at_most_neutral(new[0], new[1], new[2], new_shares)
        change = max(max(abs(a - b) for a, b in zip(new_shares, shares, strict=True)),
                     *(_max_change(new[c], tables[c]) for c in range(3)))
        tables, shares = new, new_shares
        if change < tolerance:
            break
    m, kin, other = (tuple(tuple(row) for row in t) for t in tables)
    rest = shares[1] + shares[2]
    return replace(start, m=m, kin=kin, other=other, prior=shares[0], kin_share=shares[1] / rest,
                   fitted_on=total)


def _rows(flat: list[float], offsets: list[int]) -> Rows:
    ends = [*offsets[1:], len(flat)]
    return [flat[a:b] for a, b in zip(offsets, ends, strict=True)]


def _start_shares(start: Weights) -> tuple[float, float, float]:
    rest = 1 - start.prior
    return start.prior, rest * start.kin_share, rest * (1 - start.kin_share)


def _at_most_neutral(m: Rows, kin: Rows, other: Rows, shares: list[float]) -> Rows:
    """``m`` no likelier than a pair of two households on the held levels, what is taken
    off given to the other levels of the comparison in proportion."""
    rest = shares[1] + shares[2]
    out = []
    for row, kin_row, other_row, held in zip(m, kin, other, _HELD, strict=True):
        two = [(shares[1] * a + shares[2] * b) / rest for a, b in zip(kin_row, other_row, strict=True)]
        excess = sum(v - w for v, w, h in zip(row, two, held, strict=True) if h and v > w)
        if excess <= 0.0:
            out.append(row)
            continue
        free = sum(v for v, h in zip(row, held, strict=True) if not h)
        out.append([min(v, w) if h else v * (1.0 + excess / free)
                    for v, w, h in zip(row, two, held, strict=True)])
    return out


def _normalised(sums: Rows, prior: Table, strength: float) -> Rows:
    out = []
    for row, prior_row in zip(sums, prior, strict=True):
        total = sum(row) + strength
        out.append([(v + strength * p) / total for v, p in zip(row, prior_row, strict=True)])
    return out


def _max_change(new: Rows, old: Rows) -> float:
    return max(abs(a - b) for x, y in zip(new, old, strict=True) for a, b in zip(x, y, strict=True))
