"""Quality figures of a bulk run against a synthetic ground truth (tests and bench).

Data shape: :func:`evaluate` takes the :class:`~tests.dedup.synth.SynthData`
and the proposed :class:`~sync.dedup.PairMatch` list and returns a
:class:`Quality`: precision, recall, F1, false merges of distinct valid ID
numbers, hard negatives proposed, and recall per error kind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sync.dedup import PairMatch
from sync.dedup.prepare import VALID, classify_id
from tests.dedup.synth import SynthData


@dataclass
class Quality:
    true_pairs: int
    proposed: int
    true_positives: int
    false_merges_distinct_valid: int
    hard_negatives_proposed: Counter[str] = field(default_factory=Counter)
    missed_by_kind: Counter[str] = field(default_factory=Counter)
    total_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float:
        return self.true_positives / self.proposed if self.proposed else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def recall_of(self, kind: str) -> float:
        total = self.total_by_kind[kind]
        return 1.0 - self.missed_by_kind[kind] / total if total else 1.0


def evaluate(data: SynthData, pairs: list[PairMatch]) -> Quality:
    """Compare proposed pairs with the generator's truth."""
    proposed = {(p.a, p.b) for p in pairs}
    truth = data.truth
    quality = Quality(true_pairs=len(truth), proposed=len(proposed),
                      true_positives=len(proposed & truth.keys()), false_merges_distinct_valid=0)
    for pair, kinds in truth.items():
        quality.total_by_kind.update(kinds)
        if pair not in proposed:
            quality.missed_by_kind.update(kinds)
    for a, b in proposed - truth.keys():
        x, y = classify_id(data.records[a].head_id), classify_id(data.records[b].head_id)
        if x[2] == VALID and y[2] == VALID and x[0] != y[0]:
            quality.false_merges_distinct_valid += 1
        kind = data.hard_negatives.get((a, b))
        if kind:
            quality.hard_negatives_proposed[kind] += 1
    return quality
