"""Bulk duplicate search over a whole roster (a town, a county, a province).

Data shape: :func:`find_duplicates` takes a sequence of records (anything
:func:`sync.dedup.prepare.prepare` reads) and returns :class:`PairMatch`
objects ``(a, b, score, evidence, exact_id)`` where ``a < b`` are indexes into
that sequence, sorted by ``(a, b)``.

Never all pairs. Which pairs get scored follows from the ID vetoes of
:mod:`sync.dedup.compare`: two different checksum-valid numbers are never one
household, so a pair of two valid records is only worth a look when the
numbers are equal. The work is:

1. exact: records sharing a normalised number (15-digit ones upgraded);
2. typo: each record whose number is not valid looks up the valid numbers
   one substitution or one adjacent swap away (about 35 dictionary lookups);
3. blocks: each record whose number is not valid (a typo beyond one, a
   missing or garbled number, an old 15-digit number) meets the records of
   its village whose name shares a key with its own (the name's sounds, its
   given name swapped, one given-name character left out:
   :func:`~sync.dedup.prepare.name_keys`), and the records with its phone or
   its ID region + birth date whose surname reads the same: a hash join on
   (block, key), no scan of whole villages.

The number of scored pairs is then proportional to the number of records
with a bad or missing ID, not to the square of any block. The weights are
then fitted by EM to the scored pairs themselves (:mod:`sync.dedup.fit`) and
each pair scored with them (:mod:`sync.dedup.score`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sync.dedup.compare import Levels, compare
from sync.dedup.fit import fit_weights
from sync.dedup.gcpause import cyclic_gc_paused
from sync.dedup.idtypos import typo_neighbours
from sync.dedup.links import keep_consistent
from sync.dedup.prepare import (
    INVALID18,
    OTHER,
    VALID,
    Prepared,
    classify_id,
    name_features,
    name_keys,
    phone_value,
    prepare,
)
from sync.dedup.record import RecordLike
from sync.dedup.score import DEFAULT_WEIGHTS, Weights, evidence, rule_score

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
    member: bool = False  # one's householder is a member of the other (sync/dedup/members.py)


@dataclass
class BulkStats:
    records: int = 0
    queries: int = 0
    pairs_scored: int = 0
    pairs_proposed: int = 0
    oversized_blocks: int = 0
    weights: Weights | None = None  # the weights the pairs were scored with


def _noop(stage: str, done: int, total: int) -> None:
    return None


def find_duplicates(records: Sequence[RecordLike], *, weights: Weights = DEFAULT_WEIGHTS, fit: bool = True,
                    consistent: bool = False, reference_year: int | None = None, progress: Progress = _noop,
                    max_block: int = 2_000, stats: BulkStats | None = None) -> list[PairMatch]:
    """Candidate duplicate pairs among ``records``, each scored at or above the threshold.

    :param records: the households (``HouseholdRecord`` or compatible)
    :param weights: the level weights; with ``fit`` the starting point and prior of the EM
    :param fit: re-estimate the weights on this roster's scored pairs (when there are enough)
    :param consistent: drop the pairs that, read as households, would join two people's
        valid ID numbers (:func:`sync.dedup.links.keep_consistent`); without it every
        pair is scored on its own, as :func:`sync.dedup.match.match_one` scores them
    :param reference_year: the year a householder's age is judged in
    :param progress: ``progress(stage, done, total)`` callback (stages: prepare, block, score)
    :param max_block: a (block, name key) group larger than this is skipped as a placeholder
    :param stats: filled with counts of the run when given
    """
    with cyclic_gc_paused():
        stats = stats if stats is not None else BulkStats()
        pairs = _Run(records, weights, fit, reference_year, progress, max_block, stats).find()
        if consistent:
            pairs = keep_consistent(records, pairs)
            stats.pairs_proposed = len(pairs)
        return pairs


class _Run:
    """One bulk run. Full features (:class:`Prepared`) are built only for the
    records that take part in a pair or carry a bad number: for the ~95% of
    records with a valid number, the ID, the village, the phone and the name
    keys are all the blocking needs."""

    def __init__(self, records: Sequence[RecordLike], weights: Weights, fit: bool, reference_year: int | None,
                 progress: Progress, max_block: int, stats: BulkStats) -> None:
        self.records = records
        self.n = len(records)
        self.weights = weights
        self.fit = fit
        self.reference_year = reference_year or dt.date.today().year
        self.progress = progress
        self.max_block = max_block
        self.stats = stats
        self.ids: list[str] = []
        self.states: list[int] = []
        self.queries: list[int] = []
        self.candidates: set[int] = set()  # a * n + b with a < b
        self.full: dict[int, Prepared] = {}

    def prepared(self, i: int) -> Prepared:
        p = self.full.get(i)
        if p is None:
            # The number as typed is only read by the store's blocking keys, not here.
            p = self.full[i] = prepare(self.records[i], (self.ids[i], self.ids[i], self.states[i]))
        return p

    def add(self, i: int, j: int) -> None:
        if i < j:
            self.candidates.add(i * self.n + j)
        elif j < i:
            self.candidates.add(j * self.n + i)

    def find(self) -> list[PairMatch]:
        self.stats.records = self.n
        first, more = self._classify()
        self._exact(first, more)
        self.progress("block", 1, 3)
        self._typos(first, more)
        first.clear()  # the number index is not needed for the blocks: free it
        more.clear()
        self.progress("block", 2, 3)
        self._blocks()
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

        for i in self.queries:
            v = self.ids[i]
            if len(v) == 18 and self.states[i] in (INVALID18, OTHER):
                for other in typo_neighbours(v):
                    for j in holders(other):
                        self.add(i, j)

    def _blocks(self) -> None:
        """Pairs (query, record) sharing a block and a key of the name (see the module note).

        Only the keys some query carries are collected, so a record whose village,
        phone and ID prefix no query shares costs three dictionary lookups.
        """
        query_keys = {i: _block_keys(self.prepared(i)) for i in self.queries}
        wanted: dict[str, dict[object, set[str]]] = {"v": defaultdict(set), "p": defaultdict(set),
                                                     "i": defaultdict(set)}
        for keys in query_keys.values():
            for kind, base, key in keys:
                wanted[kind][base].add(key)
        by_village, by_phone, by_prefix = (dict(wanted[kind]) for kind in ("v", "p", "i"))
        blocks: dict[tuple[str, object, str], list[int]] = defaultdict(list)
        no_keys: set[str] = set()
        village_keys, phone_keys, prefix_keys = by_village.get, by_phone.get, by_prefix.get
        for i, (record, number) in enumerate(zip(self.records, self.ids, strict=True)):
            village = record.village_id
            in_village = village_keys(village, no_keys) if village is not None else no_keys
            phone = record.phone
            in_phone = phone_keys(phone_value(phone), no_keys) if phone else no_keys
            in_prefix = prefix_keys(number[:14], no_keys)
            if in_village is no_keys and in_phone is no_keys and in_prefix is no_keys:
                continue
            name = record.head_name or ""
            if in_village is not no_keys:
                for key in name_keys(name):
                    if key in in_village:
                        blocks["v", village, key].append(i)
            if in_phone is not no_keys or in_prefix is not no_keys:
                readings = name_features(name)[2]
                for surname in readings[0] if readings else ():
                    if surname in in_phone:
                        blocks["p", phone_value(phone), surname].append(i)
                    if surname in in_prefix:
                        blocks["i", number[:14], surname].append(i)
        for i, keys in query_keys.items():
            for block in keys:
                members = blocks[block]
                if len(members) > self.max_block:
                    self.stats.oversized_blocks += 1
                    continue
                for j in members:
                    self.add(i, j)

    def _score(self) -> list[PairMatch]:
        n = self.n
        ordered = sorted(self.candidates)
        self.candidates.clear()
        self.stats.pairs_scored = total = len(ordered)
        shared: dict[Levels, Levels] = {}
        scored: list[tuple[int, Levels]] = []
        patterns: Counter[Levels] = Counter()
        for count, code in enumerate(ordered, 1):
            a, b = divmod(code, n)
            levels = compare(self.prepared(a), self.prepared(b), self.reference_year)
            if levels is not None:
                levels = shared.setdefault(levels, levels)
                scored.append((code, levels))
                patterns[levels] += 1
            if count % 100_000 == 0:
                self.progress("score", count // 2, total)
        weights = fit_weights(patterns, self.weights) if self.fit else self.weights
        self.stats.weights = weights
        decided = {levels: rule_score(weights.probability(levels), levels[-1], weights) for levels in patterns}
        found: list[PairMatch] = []
        for code, levels in scored:
            score, exact = decided[levels]
            if score >= weights.threshold:
                a, b = divmod(code, n)
                pa, pb = self.prepared(a), self.prepared(b)
                found.append(PairMatch(a, b, score, evidence(pa, pb, levels, self.reference_year), exact))
        self.progress("score", total, total)
        self.stats.pairs_proposed = len(found)
        return found


def _block_keys(p: Prepared) -> list[tuple[str, object, str]]:
    """(village, name key), (phone, surname reading), (ID region + birth date, surname reading)."""
    keys: list[tuple[str, object, str]] = []
    if p.village is not None:
        keys += [("v", p.village, key) for key in name_keys(p.name)]
    surnames = p.readings[0] if p.readings else frozenset()
    if p.phone:
        keys += [("p", p.phone, surname) for surname in surnames]
    prefix = p.id_value[:14]
    if len(prefix) == 14 and prefix.isdigit():
        keys += [("i", prefix, surname) for surname in surnames]
    return keys
