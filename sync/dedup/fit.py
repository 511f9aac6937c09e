"""Fitting the Fellegi-Sunter weights to a roster by EM, on the pairs its bulk run scores.

Which pairs are one household is not known, but the levels of every scored
pair are, and they are a mixture of two populations: pairs of one household
(levels distributed as ``m``) and pairs of two (as ``u``), in proportion
``prior``. EM alternates between the probability that each pair is a match
under the current weights (E) and the ``m``, ``u`` and ``prior`` that those
probabilities imply (M), assuming, as Fellegi-Sunter does, that the
comparisons are independent given the match status.

Pairs with the same levels are one term weighted by their count, so an
iteration costs the number of distinct level patterns (hundreds to a few
thousand), not the number of pairs. The starting weights are also the prior
of the estimate (a Dirichlet prior worth ``strength`` pairs per comparison):
a level the roster never shows keeps its prior estimate instead of a zero.
A roster too small to learn from (fewer than ``min_pairs`` scored pairs)
keeps the starting weights.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

from sync.dedup.compare import COMPARISONS, Levels
from sync.dedup.weights import Table, Weights

MIN_PAIRS = 2_000
PRIOR_STRENGTH = 50.0


def fit_weights(patterns: Counter[Levels], start: Weights, *, min_pairs: int = MIN_PAIRS,
                strength: float = PRIOR_STRENGTH, max_iterations: int = 200, tolerance: float = 1e-6) -> Weights:
    """Weights re-estimated on ``patterns`` (levels of the scored pairs → how many pairs).

    :param start: starting weights and the prior of the estimate
    :param min_pairs: fewer pairs than this: ``start`` is returned unchanged
    :param strength: how many pairs' worth the starting weights count for
    """
    total = sum(patterns.values())
    if total < min_pairs:
        return start
    k_count = len(COMPARISONS)
    items = [(levels[:k_count], count) for levels, count in patterns.items()]
    m = [list(row) for row in start.m]
    u = [list(row) for row in start.u]
    prior = start.prior
    for _ in range(max_iterations):
        log_m = [[math.log(v) for v in row] for row in m]
        log_u = [[math.log(v) for v in row] for row in u]
        base = math.log(prior) - math.log(1.0 - prior)
        m_sum = [[0.0] * len(row) for row in m]
        u_sum = [[0.0] * len(row) for row in u]
        matched = 0.0
        for levels, count in items:
            odds = base + sum(log_m[k][lv] - log_u[k][lv] for k, lv in enumerate(levels))
            g = 1.0 / (1.0 + math.exp(-odds)) if odds > -700 else 0.0
            gm, gu = count * g, count * (1.0 - g)
            matched += gm
            for k, lv in enumerate(levels):
                m_sum[k][lv] += gm
                u_sum[k][lv] += gu
        new_m = _normalised(m_sum, start.m, strength)
        new_u = _normalised(u_sum, start.u, strength)
        new_prior = (matched + strength * start.prior) / (total + strength)
        change = max(abs(new_prior - prior), _max_change(new_m, m), _max_change(new_u, u))
        m, u, prior = new_m, new_u, new_prior
        if change < tolerance:
            break
    return replace(start, m=tuple(tuple(row) for row in m), u=tuple(tuple(row) for row in u),
                   prior=prior, fitted_on=total)


def _normalised(sums: list[list[float]], prior: Table, strength: float) -> list[list[float]]:
    out = []
    for row, prior_row in zip(sums, prior, strict=True):
        total = sum(row) + strength
        out.append([(v + strength * p) / total for v, p in zip(row, prior_row, strict=True)])
    return out


def _max_change(new: list[list[float]], old: list[list[float]]) -> float:
    return max(abs(a - b) for x, y in zip(new, old, strict=True) for a, b in zip(x, y, strict=True))
