"""The three-way merge of a visit's household fields into its household.

Shapes: ``base``, ``current`` and ``incoming`` are plain dicts from field id
to JSON value (the encoding of docs/visit-form.md). ``base`` is the household as
the phone saw it (its ``base_rev``), or ``None`` when that revision is
unknown; ``current`` is the household now; ``incoming`` is the visit.

Rules, for each field f in ``fields`` (docs/sync-protocol.md), in this order:

1. f absent from ``incoming``: the visit says nothing about it; keep C[f].
2. V[f] == B[f]: the worker did not change it; keep C[f].
3. C[f] == B[f]: only the visit changed it; apply V[f].
4. C[f] == V[f]: both made the same change; nothing to do.
5. otherwise: conflict. Keep C[f] (the deterministic tie-break: the value
   already on the server wins until a supervisor decides) and report
   ``(f, B[f], C[f], V[f])``.

An unknown base (``None``) makes rules 2 and 3 unusable: every field where
V differs from C is a conflict. Values compare after :func:`canonical`
(``""`` and ``None`` both mean "not answered").

The function is pure and total: no I/O, no exceptions for any input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldConflict:
    field: str
    base: Any
    current: Any
    incoming: Any


@dataclass(frozen=True)
class MergeResult:
    """The merged values (all of ``current`` with the applied changes), the fields
    whose value changed, and the conflicts (current value kept), in ``fields`` order."""

    values: dict[str, Any]
    changed: tuple[str, ...]
    conflicts: tuple[FieldConflict, ...]

    @property
    def conflict_fields(self) -> list[str]:
        return [c.field for c in self.conflicts]


def canonical(value: Any) -> Any:
    """The comparison form of a value: empty string means not answered."""
    if isinstance(value, str) and value == "":
        return None
    return value


def same(a: Any, b: Any) -> bool:
    """Equal as field values (``True`` is not ``1``; ``""`` is ``None``)."""
    a, b = canonical(a), canonical(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def three_way_merge(
    base: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    incoming: Mapping[str, Any],
    fields: Iterable[str],
) -> MergeResult:
    """Merge ``incoming`` into ``current`` relative to ``base``.

    :param base: field values at the visit's ``base_rev``; ``None`` if unknown
    :param current: the household's field values now
    :param incoming: the visit's values of the household fields
    :param fields: the household fields of the form, in form order
    :returns: merged values, changed fields and conflicts (kept as data, never raised)
    """
    values = dict(current)
    changed: list[str] = []
    conflicts: list[FieldConflict] = []
    for name in fields:
        if name not in incoming:
            continue
        v = incoming[name]
        c = current.get(name)
        if same(c, v):
            continue
        if base is not None:
            b = base.get(name)
            if same(v, b):
                continue
            if same(c, b):
                values[name] = v
                changed.append(name)
                continue
        conflicts.append(FieldConflict(name, None if base is None else base.get(name), c, v))
    return MergeResult(values=values, changed=tuple(changed), conflicts=tuple(conflicts))
