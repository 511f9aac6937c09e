"""Bulk duplicate search over a whole roster (a town, a county, a province).

Data shape: :func:`find_duplicates` takes a sequence of records (anything
:func:`sync.dedup.prepare.prepare` reads) and returns :class:`PairMatch`
objects ``(a, b, score, evidence, exact_id)`` where ``a < b`` are indexes into
that sequence, sorted by ``(a, b)``.

Never all pairs. Which pairs get scored follows from the ID rules of
:mod:`sync.dedup.score`: two different checksum-valid numbers are never one
household (except the swap of the last two characters), so a pair of two
valid records is only worth a look when the numbers are equal. The work is:

1. exact: records sharing a normalised number (15-digit ones upgraded);
2. tail swap: a valid number whose last two characters swapped give another;
3. typo: each record whose number is not valid looks up the valid numbers
   one substitution or one adjacent swap away (about 35 dictionary lookups);
4. blocks: each record whose number is not valid (a typo beyond one, a
   missing or garbled number, an old 15-digit number) is compared with the
   other records of its blocks (village, phone, ID region + birth date) whose
   name reads the same: a hash join on (block, sound of the name).

The number of scored pairs is then proportional to the number of records
with a bad or missing ID, not to the square of any block.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sync.dedup.idtypos import typo_neighbours
from sync.dedup.prepare import (
    INVALID18,
    OTHER,
    VALID,
    Prepared,
    classify_id,
    name_features,
    phone_value,
    prepare,
)
from sync.dedup.record import RecordLike
from sync.dedup.score import DEFAULT_WEIGHTS, Weights, score_pair

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called now and then during a run."""

MAX_EXACT_GROUP = 20  # more records on one number than this is a placeholder, not a household


@dataclass(slots=True)
class PairMatch:
    a: int
    b: int
    score: float
    evidence: list[str] = field(default_factory=list)
    exact_id: bool = False


@dataclass
class BulkStats:
    records: int = 0
    queries: int = 0
    pairs_scored: int = 0
    pairs_proposed: int = 0
    oversized_blocks: int = 0


def _noop(stage: str, done: int, total: int) -> None:
    return None


def find_duplicates(records: Sequence[RecordLike], *, weights: Weights = DEFAULT_WEIGHTS,
                    reference_year: int | None = None, progress: Progress = _noop,
                    max_block: int = 2_000, stats: BulkStats | None = None) -> list[PairMatch]:
    """Candidate duplicate pairs among ``records``, each scored at or above the threshold.

    :param records: the households (``HouseholdRecord`` or compatible)
    :param weights: evidence weights and the proposal threshold
    :param reference_year: the year a householder's age is judged in
    :param progress: ``progress(stage, done, total)`` callback (stages: prepare, block, score)
    :param max_block: a (block, name sound) group larger than this is skipped as a placeholder
    :param stats: filled with counts of the run when given
    """
    # A run allocates millions of small acyclic objects (keys, tuples, features):
    # the cyclic collector would rescan the growing heap again and again for
    # nothing (a third of the run at 1M records). Reference counting still frees.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Run(records, weights, reference_year, progress, max_block,
                    stats if stats is not None else BulkStats()).find()
    finally:
        if was_enabled:
            gc.enable()


class _Run:
    """One bulk run. Full features (:class:`Prepared`) are built only for the
    records that take part in a pair or carry a bad number: for the ~97% of
    records with a valid number, the ID, the village, the phone and the sounds
    of the name are all the blocking needs."""

    def __init__(self, records: Sequence[RecordLike], weights: Weights, reference_year: int | None,
                 progress: Progress, max_block: int, stats: BulkStats) -> None:
        self.records = records
        self.weights = weights
        self.reference_year = reference_year
        self.progress = progress
        self.max_block = max_block
        self.stats = stats
        self.ids: list[str] = []
        self.states: list[int] = []
        self.queries: list[int] = []
        self.candidates: set[tuple[int, int]] = set()
        self.full: dict[int, Prepared] = {}

    def prepared(self, i: int) -> Prepared:
        p = self.full.get(i)
        if p is None:
            p = self.full[i] = prepare(self.records[i])
        return p

    def add(self, i: int, j: int) -> None:
        if i != j:
            self.candidates.add((i, j) if i < j else (j, i))

    def find(self) -> list[PairMatch]:
        self.stats.records = len(self.records)
        first, more = self._classify()
        self._exact(first, more)
        self.progress("block", 1, 3)
        self._typos(first, more)
        first.clear()  # the number index is not needed for the blocks: free it
        more.clear()
        self.progress("block", 2, 3)
        self._sound_blocks()
        self.progress("block", 3, 3)
        return self._score()

    def _classify(self, step: int = 50_000) -> tuple[dict[str, int], dict[str, list[int]]]:
        # One dict entry per number; the rare second holders go to ``more``.
        first: dict[str, int] = {}
        more: dict[str, list[int]] = defaultdict(list)
        records, ids, states, queries = self.records, self.ids, self.states, self.queries
        total = len(records)
        for start in range(0, total, step):
            for i in range(start, min(total, start + step)):
                value, _typed, state = classify_id(records[i].head_id)
                ids.append(value)
                states.append(state)
                if value:
                    j = first.setdefault(value, i)
                    if j != i:
                        more[value].append(i)
                if state != VALID:
                    queries.append(i)
            self.progress("prepare", min(total, start + step), total)
        self.stats.queries = len(queries)
        return first, more

    def _exact(self, first: dict[str, int], more: dict[str, list[int]]) -> None:
        for value, others in more.items():
            group = [first[value], *others]
            if len(group) > MAX_EXACT_GROUP:
                self.stats.oversized_blocks += 1
                continue
            for x in range(len(group)):
                for y in range(x + 1, len(group)):
                    self.add(group[x], group[y])

    def _typos(self, first: dict[str, int], more: dict[str, list[int]]) -> None:
        def holders(value: str) -> list[int]:
            i = first.get(value)
            return [] if i is None else [i, *more.get(value, ())]

        # A valid number whose last two characters swapped give another one on the list.
        for i, (v, state) in enumerate(zip(self.ids, self.states, strict=True)):
            if state == VALID and v[17] != "X" and v[16] != v[17]:
                for j in holders(v[:16] + v[17] + v[16]):
                    self.add(i, j)
        for i in self.queries:
            v = self.ids[i]
            if len(v) == 18 and self.states[i] in (INVALID18, OTHER):
                for other in typo_neighbours(v):
                    for j in holders(other):
                        self.add(i, j)

    def _sound_blocks(self) -> None:
        """Pairs (query, record) sharing a block and a sound of the name.

        A block is a village, a phone or an ID region + birth date, joined with
        the name's sounds so that only names read alike meet: a hash join, no
        scan of whole villages. Only the keys some query carries are collected.
        """
        wanted: set[tuple[object, ...]] = set()
        for i in self.queries:
            wanted.update(_block_keys(self.prepared(i)))
        if not wanted:
            return
        villages = {key[1] for key in wanted if key[0] == "v"}
        phones = {key[1] for key in wanted if key[0] == "p"}
        prefixes = {key[1] for key in wanted if key[0] == "i"}
        blocks: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for i, record in enumerate(self.records):
            village = record.village_id
            phone = phone_value(record.phone) if record.phone else ""
            prefix = self.ids[i][:14]
            in_village, in_phone, in_prefix = village in villages, phone in phones, prefix in prefixes
            if not (in_village or in_phone or in_prefix):
                continue
            for sound in name_features(record.head_name or "")[3]:
                if in_village and ("v", village, sound) in wanted:
                    blocks[("v", village, sound)].append(i)
                if in_phone and ("p", phone, sound) in wanted:
                    blocks[("p", phone, sound)].append(i)
                if in_prefix and ("i", prefix, sound) in wanted:
                    blocks[("i", prefix, sound)].append(i)
        for i in self.queries:
            for key in _block_keys(self.prepared(i)):
                members = blocks[key]
                if len(members) > self.max_block:
                    self.stats.oversized_blocks += 1
                    continue
                for j in members:
                    self.add(i, j)

    def _score(self) -> list[PairMatch]:
        found: list[PairMatch] = []
        ordered = sorted(self.candidates)
        self.candidates.clear()
        self.stats.pairs_scored = total = len(ordered)
        for n, (a, b) in enumerate(ordered, 1):
            match = score_pair(self.prepared(a), self.prepared(b), self.weights, self.reference_year)
            if match is not None and match.score >= self.weights.threshold:
                found.append(PairMatch(a, b, match.score, match.evidence, match.exact_id))
            if n % 100_000 == 0 or n == total:
                self.progress("score", n, total)
        self.stats.pairs_proposed = len(found)
        return found


def _block_keys(p: Prepared) -> list[tuple[object, ...]]:
    """(village | phone | ID region + birth date) x each sound of the name."""
    bases: list[tuple[object, ...]] = []
    if p.village is not None:
        bases.append(("v", p.village))
    if p.phone:
        bases.append(("p", p.phone))
    prefix = p.id_value[:14]
    if len(prefix) == 14 and prefix.isdigit():
        bases.append(("i", prefix))
    return [(*base, sound) for base in bases for sound in p.sounds]
