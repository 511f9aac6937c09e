"""Keeping a bulk run's pairs consistent as households: one person's ID number per household.

Pairs are read as links, and linked records as one household (the way a
merge, or a reviewer reading the list, takes them). Two records with
different checksum-valid ID numbers are never proposed as a pair, but a
record without a number can be proposed with both: a re-report of a father
without his ID number matches the father, and reads almost as well as his
son of the same name. Taken together such links would fold two registered
people into one household.

:func:`keep_consistent` adds the links strongest first and drops a link that
would join two groups holding different people's valid numbers: the record
goes with the person it matches best. Links of equal strength that would
join different people are all dropped, since nothing says which is right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import groupby
from typing import Protocol, TypeVar

from sync.dedup.prepare import UPGRADED, classify_id
from sync.dedup.record import RecordLike


class Link(Protocol):
    """A scored pair of record indexes (:class:`sync.dedup.bulk.PairMatch` is one)."""

    @property
    def a(self) -> int: ...
    @property
    def b(self) -> int: ...
    @property
    def score(self) -> float: ...


L = TypeVar("L", bound=Link)


class _Union:
    """Union-find over record indexes."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(item, item) != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, x: int, y: int) -> int:
        x, y = self.find(x), self.find(y)
        if x != y:
            self.parent[x] = y
        return y


def keep_consistent(records: Sequence[RecordLike], pairs: list[L]) -> list[L]:
    """The pairs that hold together (see the module note), in their original order.

    :param records: the records the pairs index
    :param pairs: a bulk run's pairs
    """
    person: dict[int, str] = {}  # group root -> the valid number the group holds
    for i in {i for pair in pairs for i in (pair.a, pair.b)}:
        value, _typed, state = classify_id(records[i].head_id)
        if state <= UPGRADED:
            person[i] = value
    groups = _Union()
    kept: set[int] = set()
    ranked = sorted(range(len(pairs)), key=lambda n: -pairs[n].score)
    for _score, tied in groupby(ranked, key=lambda n: pairs[n].score):
        level = [(n, groups.find(pairs[n].a), groups.find(pairs[n].b)) for n in tied]
        level = [(n, x, y) for n, x, y in level if not _clash(person.get(x), person.get(y))]
        local = _Union()
        for _n, x, y in level:
            local.union(x, y)
        held: dict[int, set[str]] = defaultdict(set)
        for _n, x, y in level:
            held[local.find(x)].update(p for p in (person.get(x), person.get(y)) if p is not None)
        for n, x, y in level:
            if len(held[local.find(x)]) > 1:
                continue  # equally strong links to two different people
            x, y = groups.find(x), groups.find(y)
            number = person.get(x) or person.get(y)
            root = groups.union(x, y)
            if number is not None:
                person[root] = number
            kept.add(n)
    return [pair for n, pair in enumerate(pairs) if n in kept]


def _clash(x: str | None, y: str | None) -> bool:
    return x is not None and y is not None and x != y
