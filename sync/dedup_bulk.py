"""Bulk duplicate search over a whole roster (a town, a county, a province).

Data shape: :func:`find_duplicates` takes a sequence of records (anything
:func:`sync.dedup_prepare.prepare` reads) and returns :class:`PairMatch`
objects ``(a, b, score, evidence, exact_id)`` where ``a < b`` are indexes into
that sequence, sorted by ``(a, b)``.

Never all pairs. Which pairs get scored follows from the ID rules of
:mod:`sync.dedup_score`: two different checksum-valid numbers are never one
household (except the swap of the last two characters), so a pair of two
valid records is only worth a look when the numbers are equal. The work is:

1. exact: records sharing a normalised number (15-digit ones upgraded);
2. tail swap: a valid number whose last two characters swapped give another;
3. typo: each record whose number is not valid looks up the valid numbers
   one substitution or one adjacent swap away (about 35 dictionary lookups);
4. blocks: each record whose number is not valid (a typo beyond one, a
   missing or garbled number, an old 15-digit number) is compared with the
   other records of its blocks (village + surname reading, phone, ID region +
   birth date) whose name reads the same; blocks above ``max_block`` are
   split by group first.

The number of scored pairs is then proportional to the number of records
with a bad or missing ID, not to the square of any block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sync.dedup import typo_neighbours
from sync.dedup_prepare import INVALID18, OTHER, VALID, Prepared, RecordLike, prepare
from sync.dedup_score import DEFAULT_WEIGHTS, Weights, score_pair

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


def prepare_all(records: Sequence[RecordLike], progress: Progress = _noop,
                step: int = 50_000) -> list[Prepared]:
    """Prepare every record, reporting progress every ``step`` records."""
    total = len(records)
    out: list[Prepared] = []
    for start in range(0, total, step):
        out.extend(prepare(r) for r in records[start:start + step])
        progress("prepare", min(total, start + step), total)
    return out


def find_duplicates(records: Sequence[RecordLike], *, weights: Weights = DEFAULT_WEIGHTS,
                    reference_year: int | None = None, progress: Progress = _noop,
                    max_block: int = 2_000, stats: BulkStats | None = None) -> list[PairMatch]:
    """Candidate duplicate pairs among ``records``, each scored at or above the threshold.

    :param records: the households (``HouseholdRecord`` or compatible)
    :param weights: evidence weights and the proposal threshold
    :param reference_year: the year a householder's age is judged in
    :param progress: ``progress(stage, done, total)`` callback (stages: prepare, block, score)
    :param max_block: blocks larger than this are split by village group
    :param stats: filled with counts of the run when given
    """
    prepared = prepare_all(records, progress)
    return find_prepared(prepared, weights=weights, reference_year=reference_year,
                         progress=progress, max_block=max_block, stats=stats)


def find_prepared(prepared: list[Prepared], *, weights: Weights = DEFAULT_WEIGHTS,
                  reference_year: int | None = None, progress: Progress = _noop,
                  max_block: int = 2_000, stats: BulkStats | None = None) -> list[PairMatch]:
    """:func:`find_duplicates` over records already prepared."""
    stats = stats if stats is not None else BulkStats()
    stats.records = len(prepared)
    candidates: set[tuple[int, int]] = set()

    # One dict entry per number; the rare second holders go to ``more``.
    first: dict[str, int] = {}
    more: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        if p.id_value:
            j = first.setdefault(p.id_value, i)
            if j != i:
                more[p.id_value].append(i)
    for value, others in more.items():
        group = [first[value], *others]
        if len(group) <= MAX_EXACT_GROUP:
            for x in range(len(group)):
                for y in range(x + 1, len(group)):
                    _add(candidates, group[x], group[y])
        else:
            stats.oversized_blocks += 1
    progress("block", 1, 5)

    def holders(value: str) -> list[int]:
        i = first.get(value)
        return [] if i is None else [i, *more.get(value, ())]

    # A valid number whose last two characters swapped give another one on the list.
    for i, p in enumerate(prepared):
        v = p.id_value
        if p.id_state == VALID and v[17] != "X" and v[16] != v[17]:
            for j in holders(v[:16] + v[17] + v[16]):
                _add(candidates, i, j)
    queries = [i for i, p in enumerate(prepared) if p.id_state != VALID]
    stats.queries = len(queries)
    for i in queries:
        p = prepared[i]
        if len(p.id_value) == 18 and p.id_state in (INVALID18, OTHER):
            for other in typo_neighbours(p.id_value):
                for j in holders(other):
                    _add(candidates, i, j)
    progress("block", 2, 5)
    first.clear()  # the number index is not needed for the blocks: free it
    more.clear()

    _sound_pairs(prepared, queries, candidates, max_block, stats)
    progress("block", 5, 5)

    found: list[PairMatch] = []
    ordered = sorted(candidates)
    del candidates
    stats.pairs_scored = len(ordered)
    total = len(ordered)
    for n, (a, b) in enumerate(ordered, 1):
        match = score_pair(prepared[a], prepared[b], weights, reference_year)
        if match is not None and match.score >= weights.threshold:
            found.append(PairMatch(a, b, match.score, match.evidence, match.exact_id))
        if n % 100_000 == 0 or n == total:
            progress("score", n, total)
    stats.pairs_proposed = len(found)
    return found


def _add(candidates: set[tuple[int, int]], i: int, j: int) -> None:
    if i != j:
        candidates.add((i, j) if i < j else (j, i))


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


def _sound_pairs(prepared: list[Prepared], queries: list[int], candidates: set[tuple[int, int]],
                 max_block: int, stats: BulkStats) -> None:
    """Pairs (query, record) sharing a block and a sound of the name.

    A block is a village, a phone or an ID region + birth date, joined with
    the name's sounds so that only names read alike meet: a hash join, no
    scan of whole villages. Only the keys some query carries are collected.
    """
    wanted: set[tuple[object, ...]] = set()
    for i in queries:
        wanted.update(_block_keys(prepared[i]))
    if not wanted:
        return
    villages = {key[1] for key in wanted if key[0] == "v"}
    phones = {key[1] for key in wanted if key[0] == "p"}
    prefixes = {key[1] for key in wanted if key[0] == "i"}
    blocks: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        sounds = p.sounds
        if p.village in villages:
            for sound in sounds:
                key: tuple[object, ...] = ("v", p.village, sound)
                if key in wanted:
                    blocks[key].append(i)
        if p.phone in phones:
            for sound in sounds:
                key = ("p", p.phone, sound)
                if key in wanted:
                    blocks[key].append(i)
        prefix = p.id_value[:14]
        if prefix in prefixes:
            for sound in sounds:
                key = ("i", prefix, sound)
                if key in wanted:
                    blocks[key].append(i)
    for i in queries:
        for key in _block_keys(prepared[i]):
            members = blocks[key]
            if len(members) > max_block:
                stats.oversized_blocks += 1
                continue
            for j in members:
                _add(candidates, i, j)
