"""Fellegi-Sunter weights, with kin apart: how likely each level is for each kind of pair.

Data shape: :class:`Weights` holds, for every comparison of
:data:`sync.dedup.compare.COMPARISONS` and each of its levels, how often a
pair shows that level when it is

- ``m``: one household written twice;
- ``kin``: two households of one family (a father and a son, brothers): they
  share a village, a group, a hamlet, often a phone and a surname, sometimes
  a copied ID number;
- ``other``: two households that met in a block for no such reason;

and the shares: ``prior`` of one-household pairs among the pairs scored,
``kin_share`` of kin among the rest. A pair's score is the probability that
it is one household::

    prior * P(levels | m) / (prior * P(levels | m) + (1 - prior) * P(levels | kin or other))

with each P a product over the comparisons. Plain Fellegi-Sunter has one
class of non-matches and takes the comparisons as independent within it; but
what kin share (place, phone, surname) comes together, and counted as
independent pieces of evidence it would outweigh a different given name or a
wrong ID number. With kin a class of their own, agreement on what a family
shares speaks for "one family", and only what tells a household from its kin
(the ID number, the given name) speaks for "one household". This is the
latent-class extension of Fellegi-Sunter; the weights are fitted the same way
(:func:`sync.dedup.fit.fit_weights`).

:data:`DEFAULT_WEIGHTS` are prior estimates, used where there is no roster to
learn from (one new household at a time, during a push) and as the starting
point and the prior of the EM that re-estimates everything on the pairs a
bulk run scores. A pair is proposed from ``threshold`` on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sync.dedup.compare import COMPARISONS, LEVELS, Levels

Table = tuple[tuple[float, ...], ...]
"""One row per comparison, one probability per level (each row sums to 1)."""


def table(values: Mapping[str, Mapping[str, float]]) -> Table:
    """A :data:`Table` from ``{comparison: {level: weight}}``, each row scaled to sum to 1."""
    rows = []
    for name in COMPARISONS:
        row = tuple(values[name][level] for level in LEVELS[name])
        total = sum(row)
        rows.append(tuple(v / total for v in row))
    return tuple(rows)


@dataclass(frozen=True)
class Weights:
    """Level probabilities of the three kinds of pair, their shares, and the threshold."""

    m: Table
    kin: Table
    other: Table
    prior: float
    kin_share: float
    threshold: float = 0.5
    exact_floor: float = 0.97
    relative_cap: float = 0.4
    fitted_on: int = field(default=0, compare=False)  # pairs the EM saw; 0 for the defaults

    @cached_property
    def _logs(self) -> tuple[Table, Table, Table]:
        return tuple(tuple(tuple(math.log(v) for v in row) for row in t)  # type: ignore[return-value]
                     for t in (self.m, self.kin, self.other))

    def log_likelihoods(self, levels: Levels) -> tuple[float, float, float]:
        """Natural logs of share * P(levels | kind) for one household, kin and other."""
        log_m, log_kin, log_other = self._logs
        n = len(log_m)
        return (math.log(self.prior) + sum(log_m[k][levels[k]] for k in range(n)),
                math.log((1.0 - self.prior) * self.kin_share) + sum(log_kin[k][levels[k]] for k in range(n)),
                math.log((1.0 - self.prior) * (1.0 - self.kin_share))
                + sum(log_other[k][levels[k]] for k in range(n)))

    def probability(self, levels: Levels) -> float:
        """The probability that the pair is one household (the rule flag is not read)."""
        one, kin, other = self.log_likelihoods(levels)
        top = max(one, kin, other)
        weights = [math.exp(x - top) for x in (one, kin, other)]
        return weights[0] / sum(weights)

    def describe(self) -> list[tuple[str, str, float, float, float]]:
        """(comparison, level, m, kin, other) rows, for the bench and the curious."""
        return [(name, level, self.m[k][j], self.kin[k][j], self.other[k][j])
                for k, name in enumerate(COMPARISONS) for j, level in enumerate(LEVELS[name])]


# Prior estimates for the pairs a run scores: households that meet in a block (same
# village and a name that sounds alike or is one character apart, the same phone, the
# same ID region and birth date, or ID numbers one typo apart), as (m, kin, other).
# m: a re-reported household is mostly typed right, a quarter of the copies without
# the ID number. kin: a family's households share village, group and hamlet, a third
# of them a phone; their heads' names are one character apart or share only the
# surname; a relative's ID number is now and then copied. other: households of one
# village that met by a name one character apart.
_PRIORS: dict[str, dict[str, tuple[float, float, float]]] = {
    "id": {"exact": (0.65, 0.01, 0.001), "same_invalid": (0.005, 0.001, 0.001), "typo": (0.08, 0.002, 0.001),
           "edit": (0.01, 0.001, 0.001), "near": (0.005, 0.005, 0.002), "missing": (0.23, 0.9, 0.9),
           "unknown": (0.02, 0.081, 0.094)},
    "name": {"same": (0.75, 0.05, 0.02), "sound": (0.12, 0.03, 0.02), "swapped": (0.02, 0.002, 0.001),
             "similar": (0.08, 0.5, 0.7), "given": (0.000001, 0.15, 0.01), "different": (0.03, 0.268, 0.249)},
    "village": {"same": (0.95, 0.97, 0.95), "different": (0.04, 0.02, 0.04), "missing": (0.01, 0.01, 0.01)},
    "town": {"same": (0.99, 0.99, 0.99), "different": (0.005, 0.005, 0.005), "missing": (0.005, 0.005, 0.005)},
    "group": {"same": (0.93, 0.8, 0.2), "different": (0.05, 0.15, 0.75), "missing": (0.02, 0.05, 0.05)},
    "hamlet": {"same": (0.72, 0.75, 0.2), "variant": (0.12, 0.05, 0.02), "different": (0.01, 0.05, 0.65),
               "missing": (0.15, 0.15, 0.13)},
    "phone": {"same": (0.65, 0.35, 0.005), "typo": (0.05, 0.001, 0.0005), "different": (0.07, 0.35, 0.7),
              "missing": (0.23, 0.299, 0.2945)},
    "size": {"same": (0.78, 0.2, 0.2), "near": (0.17, 0.3, 0.3), "far": (0.03, 0.45, 0.47),
             "missing": (0.02, 0.05, 0.03)},
}


def _kind(kind: int) -> Table:
    return table({name: {level: values[kind] for level, values in levels.items()} for name, levels in _PRIORS.items()})


DEFAULT_WEIGHTS = Weights(m=_kind(0), kin=_kind(1), other=_kind(2), prior=0.1, kin_share=0.5)
