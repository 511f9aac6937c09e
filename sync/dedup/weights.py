"""Fellegi-Sunter weights: how much each level of each comparison says for a match.

Data shape: :class:`Weights` holds, for every comparison of
:data:`sync.dedup.compare.COMPARISONS` and each of its levels, ``m`` (how
often two records of one household show that level) and ``u`` (how often two
records of two households that met in a block do), and ``prior``, the share
of one-household pairs among the pairs scored. A pair's log-odds is
``log2(prior / (1 - prior)) + sum(log2(m / u))`` over its levels, its score the
probability ``1 / (1 + 2 ** -log_odds)``; a pair is proposed from
``threshold`` on.

:data:`DEFAULT_WEIGHTS` are prior estimates, used where there is no roster to
learn from (one new household at a time, during a push) and as the starting
point and the prior of :func:`sync.dedup.fit.fit_weights`, which re-estimates
every ``m``, ``u`` and the prior by EM on the pairs a bulk run scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sync.dedup.compare import COMPARISONS, LEVELS, Levels

Table = tuple[tuple[float, ...], ...]


def _table(values: Mapping[str, Mapping[str, float]]) -> Table:
    rows = []
    for name in COMPARISONS:
        row = tuple(values[name][level] for level in LEVELS[name])
        total = sum(row)
        rows.append(tuple(v / total for v in row))
    return tuple(rows)


@dataclass(frozen=True)
class Weights:
    """m and u per comparison level, the prior, and the proposal threshold (a probability)."""

    m: Table
    u: Table
    prior: float
    threshold: float = 0.5
    exact_floor: float = 0.97
    relative_cap: float = 0.4
    fitted_on: int = field(default=0, compare=False)  # pairs the EM saw; 0 for the defaults

    @cached_property
    def _log_ratios(self) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(math.log2(m / u) for m, u in zip(ms, us, strict=True))
                     for ms, us in zip(self.m, self.u, strict=True))

    @cached_property
    def prior_log_odds(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    def log_odds(self, levels: Levels) -> float:
        """The pair's log2 odds of being one household (the rule flag is not read)."""
        ratios = self._log_ratios
        return self.prior_log_odds + sum(ratios[k][level] for k, level in enumerate(levels[:len(ratios)]))

    def probability(self, levels: Levels) -> float:
        odds = self.log_odds(levels)
        if odds < -60:
            return 0.0
        return 1.0 / (1.0 + math.exp2(-odds))

    def describe(self) -> list[tuple[str, str, float, float, float]]:
        """(comparison, level, m, u, log2(m/u)) rows, for the bench and the curious."""
        return [(name, level, self.m[k][j], self.u[k][j], self._log_ratios[k][j])
                for k, name in enumerate(COMPARISONS) for j, level in enumerate(LEVELS[name])]


# Prior estimates for the pairs a run scores: households that meet in a block (same
# village and a name that sounds alike or is one character apart, the same phone, the
# same ID region and birth date, or ID numbers one typo apart). m: a re-reported
# household is mostly typed right, a quarter of the copies without the ID number. u: two
# households that meet are mostly of one village, their names one character apart, often
# kin in one group and hamlet; an ID number is rarely shared by two households, and a
# two-character name with another given name under one number is a relative's number
# until a roster shows otherwise.
_M = {
    "id": {"exact": 0.65, "same_invalid": 0.005, "typo": 0.08, "edit": 0.01, "near": 0.005,
           "missing": 0.23, "unknown": 0.02},
    "name": {"same": 0.75, "sound": 0.12, "swapped": 0.02, "similar": 0.08, "given": 0.000001,
             "different": 0.03},
    "village": {"same": 0.95, "different": 0.04, "missing": 0.01},
    "town": {"same": 0.99, "different": 0.005, "missing": 0.005},
    "group": {"same": 0.93, "different": 0.05, "missing": 0.02},
    "hamlet": {"same": 0.72, "variant": 0.12, "different": 0.01, "missing": 0.15},
    "phone": {"same": 0.65, "typo": 0.05, "different": 0.07, "missing": 0.23},
    "size": {"same": 0.78, "near": 0.17, "far": 0.03, "missing": 0.02},
}
_U = {
    "id": {"exact": 0.01, "same_invalid": 0.001, "typo": 0.001, "edit": 0.001, "near": 0.002,
           "missing": 0.95, "unknown": 0.035},
    "name": {"same": 0.02, "sound": 0.02, "swapped": 0.001, "similar": 0.75, "given": 0.01,
             "different": 0.20},
    "village": {"same": 0.98, "different": 0.01, "missing": 0.01},
    "town": {"same": 0.99, "different": 0.005, "missing": 0.005},
    "group": {"same": 0.65, "different": 0.30, "missing": 0.05},
    "hamlet": {"same": 0.55, "variant": 0.03, "different": 0.30, "missing": 0.12},
    "phone": {"same": 0.03, "typo": 0.0005, "different": 0.80, "missing": 0.17},
    "size": {"same": 0.19, "near": 0.32, "far": 0.47, "missing": 0.02},
}
DEFAULT_WEIGHTS = Weights(m=_table(_M), u=_table(_U), prior=0.1)
