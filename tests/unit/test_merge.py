"""The three-way merge (sync/merge.py): the rules of docs/sync-protocol.md, as a pure function."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.merge import FieldConflict, three_way_merge

FIELDS = ("head_name", "phone", "size", "risk_eliminated", "hamlet")
BASE = {"head_name": "王建国", "phone": "13800000001", "size": 4, "risk_eliminated": None, "hamlet": "王祖湾"}


def with_(values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**values, **changes}


@pytest.mark.parametrize(("current", "incoming", "expected", "changed", "conflicts"), [
    # V == B: the worker did not change it; a change on the server stays.
    (with_(BASE, phone="13900000000"), BASE, with_(BASE, phone="13900000000"), (), []),
    # C == B: only the visit changed it; applied.
    (BASE, with_(BASE, phone="13900000000"), with_(BASE, phone="13900000000"), ("phone",), []),
    # C == V: both made the same change; nothing to do, no conflict.
    (with_(BASE, size=5), with_(BASE, size=5), with_(BASE, size=5), (), []),
    # Both changed it differently: current kept, conflict recorded.
    (with_(BASE, size=5), with_(BASE, size=6), with_(BASE, size=5), (),
     [FieldConflict("size", 4, 5, 6)]),
    # Different fields changed on each side: both kept.
    (with_(BASE, phone="13900000000"), with_(BASE, size=6), with_(BASE, phone="13900000000", size=6),
     ("size",), []),
])
def test_rules(current, incoming, expected, changed, conflicts) -> None:
    result = three_way_merge(BASE, current, incoming, FIELDS)
    assert result.values == expected
    assert result.changed == changed
    assert list(result.conflicts) == conflicts


def test_unknown_base_makes_every_difference_a_conflict() -> None:
    current = with_(BASE, phone="13900000000")
    incoming = with_(BASE, size=6)
    result = three_way_merge(None, current, incoming, FIELDS)
    assert result.values == current
    assert result.changed == ()
    assert result.conflict_fields == ["phone", "size"]
    assert result.conflicts[0] == FieldConflict("phone", None, "13900000000", "13800000001")


def test_empty_string_and_null_are_the_same_answer() -> None:
    result = three_way_merge(with_(BASE, hamlet=None), with_(BASE, hamlet=""), with_(BASE, hamlet=None), FIELDS)
    assert result.changed == () and result.conflicts == ()


def test_true_is_not_one() -> None:
    result = three_way_merge(with_(BASE, risk_eliminated=None), with_(BASE, risk_eliminated=1),
                             with_(BASE, risk_eliminated=True), FIELDS)
    assert result.conflict_fields == ["risk_eliminated"]


def test_fields_absent_from_the_visit_are_left_alone() -> None:
    incoming = {"size": 6}
    result = three_way_merge(BASE, BASE, incoming, FIELDS)
    assert result.values == with_(BASE, size=6)
    assert result.changed == ("size",)


def test_only_the_named_fields_take_part() -> None:
    result = three_way_merge(BASE, BASE, with_(BASE, other="x", size=7), ("size",))
    assert "other" not in result.values and result.values["size"] == 7


# -- properties ---------------------------------------------------------------

value = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "a", "b", "王"]))
record = st.fixed_dictionaries({name: value for name in FIELDS})


@given(record, record)
def test_unchanged_current_takes_the_visit(base, incoming) -> None:
    """merge(b, b, t) == t: nothing happened on the server, so the visit wins everywhere."""
    result = three_way_merge(base, base, incoming, FIELDS)
    assert result.conflicts == ()
    for name in FIELDS:
        assert result.values[name] == incoming[name] or {result.values[name], incoming[name]} <= {None, ""}


@given(record, record)
def test_same_change_on_both_sides_is_no_conflict(base, other) -> None:
    """merge(b, o, o) == o."""
    result = three_way_merge(base, other, other, FIELDS)
    assert result.values == other
    assert result.conflicts == () and result.changed == ()


@given(st.one_of(st.none(), record), record, record)
def test_swapping_sides_mirrors_the_conflicts(base, ours, theirs) -> None:
    """Which side is "current" changes the kept value, never whether a field conflicts."""
    one = three_way_merge(base, ours, theirs, FIELDS)
    two = three_way_merge(base, theirs, ours, FIELDS)
    assert [(c.field, c.base, c.current, c.incoming) for c in one.conflicts] == [
        (c.field, c.base, c.incoming, c.current) for c in two.conflicts
    ]


@given(record, record, record)
def test_result_is_current_plus_changes_and_is_deterministic(base, current, incoming) -> None:
    result = three_way_merge(base, current, incoming, FIELDS)
    assert result == three_way_merge(base, current, incoming, FIELDS)
    conflicted = set(result.conflict_fields)
    for name in FIELDS:
        if name in result.changed:
            assert result.values[name] == incoming[name]
        else:
            assert result.values[name] == current[name]
        assert not (name in conflicted and name in result.changed)
